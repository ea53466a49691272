/** A child process for the cross-process test: adds then removes ids in one store file. */
import { FileAttachmentStore } from '../../lib/attachments/file-attachment-store.js';

const [filePath, worker, countText] = process.argv.slice(2);
const store = new FileAttachmentStore(filePath ?? '');
const count = Number(countText);
for (let index = 0; index < count; index += 1) {
  await store.add('/mnt/shared', `${worker}-${index}`);
  // Every other id is removed again, so removes race with the other process's adds too.
  if (index % 2 === 1) await store.remove('/mnt/shared', `${worker}-${index - 1}`);
}
