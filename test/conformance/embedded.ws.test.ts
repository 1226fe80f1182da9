/** The conformance suite against the embedded server over WebSocket (protocol.md §1; embedded.target.ts). */
import { embeddedTarget } from './embedded.target.js';
import { conformanceSuite } from './suite.js';

conformanceSuite('embedded over WebSocket', () => embeddedTarget('ws'));
