/** The workflows a worker registers. One business process per file. */
export { orderToCash } from './order-to-cash';
