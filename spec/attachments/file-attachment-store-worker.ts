/**
 * A child process for the cross-process tests: random adds and removes of its own ids on shared
 * mount points, in one store; prints the ids it left recorded, as JSON, when done.
 */
import { FileAttachmentStore } from '../../lib/attachments/file-attachment-store.js';

const [filePath, worker, countText, mountsText] = process.argv.slice(2);
const store = new FileAttachmentStore(filePath ?? '');
const mounts = Array.from({ length: Number(mountsText) }, (_, index) => `/mnt/shared-${index}`);
const mine = new Map<string, string>();
for (let step = 0; step < Number(countText); step += 1) {
  const id = `${worker}/${Math.floor(Math.random() * 6)}`;
  const mountPath = mounts[Math.floor(Math.random() * mounts.length)] ?? '';
  const recorded = mine.get(id);
  // Each id lives on at most one mount point, so the expected end state is known exactly.
  if (recorded === undefined) {
    await store.add(mountPath, id);
    mine.set(id, mountPath);
  } else {
    await store.remove(recorded, id);
    mine.delete(id);
  }
}
process.stdout.write(JSON.stringify([...mine]));
