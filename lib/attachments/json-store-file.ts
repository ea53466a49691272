import { readFileSync } from 'node:fs';
import { AttachmentStoreError } from '../errors.js';

/**
 * Reads the store's first format, one JSON file written whole by versions up to 0.1:
 * `{ "version": 1, "mounts": { "<mount path>": ["<attachment id>", ...] } }`. Now read only to
 * migrate it.
 *
 * @throws {@link AttachmentStoreError} when it cannot be read or is corrupt (it is left as it is).
 */
export function readJsonStoreFile(filePath: string): Map<string, string[]> {
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    throw new AttachmentStoreError(filePath, `Cannot read the attachment store ${filePath}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new AttachmentStoreError(filePath, `The attachment store ${filePath} is corrupt (not JSON); it was left as it is`, { cause: error });
  }
  const file = parsed as { version?: unknown; mounts?: unknown } | null;
  const mounts = file?.mounts;
  const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string');
  if (file?.version !== 1 || typeof mounts !== 'object' || mounts === null || Array.isArray(mounts) || !Object.values(mounts).every(isStringArray)) {
    throw new AttachmentStoreError(filePath, `The attachment store ${filePath} is corrupt (unexpected shape); it was left as it is`);
  }
  return new Map(Object.entries(mounts as Record<string, string[]>));
}
