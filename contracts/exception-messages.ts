/** Messages of the exception-case workflow. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CaseState, ExceptionResolution } from './exception-types';

export const caseQuery = defineQuery<CaseState>('case');
export const resolveCaseUpdate = defineUpdate<{ accepted: true }, [ExceptionResolution]>('resolve');
/** The raising process says the cause went away (the stock arrived, the carrier delivered after all). */
export const causeGoneSignal = defineSignal<[string]>('causeGone');
