/** The conformance suite against the embedded server over TCP (embedded.target.ts). */
import { embeddedTarget } from './embedded.target.js';
import { conformanceSuite } from './suite.js';

conformanceSuite('embedded', () => embeddedTarget('tcp'));
