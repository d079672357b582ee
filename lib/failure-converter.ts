/**
 * Failures as payloads: an error's message and stack trace travel as an encoded payload (which the payload
 * codec encrypts) instead of clear text in the history, since they can quote what a person sent or what a
 * provider answered. Loaded by path (workers bundle it into the workflow sandbox; clients decode with it).
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
