/** The messages the return workflow understands. Receipt and inspection are updates: the warehouse gets the outcome back. */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { InspectedLine, InspectionLine, ReceiptLine, RefundDecision, ReturnProcessState } from './return-types';

export const returnProcessQuery = defineQuery<ReturnProcessState>('returnProcess');
export const receiveUpdate = defineUpdate<{ received: number; expected: number }, [ReceiptLine[]]>('receive');
export const inspectUpdate = defineUpdate<{ lines: InspectedLine[]; ordersWaiting: string[] }, [InspectionLine[]]>(
  'inspect',
);
export const decideUpdate = defineUpdate<{ accepted: true }, [RefundDecision]>('decide');
