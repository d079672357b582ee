/** Custom search attributes, so anyone can find an order's process in the Temporal UI. Registered by the dev server start-up. */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const OrderIdKey = defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD);
export const ChannelKey = defineSearchAttributeKey('Channel', SearchAttributeType.KEYWORD);
// Processes started before payloads were encrypted carry the customer's e-mail; new ones only the customer id
// (a search attribute cannot be encrypted, so it holds no personal data).
export const CustomerEmailKey = defineSearchAttributeKey('CustomerEmail', SearchAttributeType.KEYWORD);
export const CustomerIdKey = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
export const OrderStageKey = defineSearchAttributeKey('OrderStage', SearchAttributeType.KEYWORD);

/** name=Type pairs for `temporal server start-dev --search-attribute`. */
export const SEARCH_ATTRIBUTES = [
  'OrderId=Keyword',
  'Channel=Keyword',
  'CustomerEmail=Keyword',
  'CustomerId=Keyword',
  'OrderStage=Keyword',
];
