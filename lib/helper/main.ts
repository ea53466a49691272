#!/usr/bin/env node
/**
 * The `libvirt-volume-helper` executable; see `run-helper.ts` and docs/operations.md. The one
 * line an agent needs in sudoers: `agent ALL=(root) NOPASSWD: /path/to/libvirt-volume-helper`.
 *
 * @module
 */
import { runHelper } from './run-helper.js';

process.exitCode = await runHelper(process.argv.slice(2));
