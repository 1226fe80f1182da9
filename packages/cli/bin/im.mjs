#!/usr/bin/env node
// Launcher for the `im` CLI: runs the TypeScript entry through tsx (no build step, COMMON.md).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
