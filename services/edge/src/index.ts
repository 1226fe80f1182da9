export type { EdgeLogger } from './context.js';
export { MAX_PRE_LOGIN_STRIKES } from './dispatch.js';
export { createEdge, type Edge, type EdgeOptions } from './edge.js';
