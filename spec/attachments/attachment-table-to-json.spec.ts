import { expect } from 'chai';
import { attachmentTableToJSON } from '../../lib/attachments/attachment-table-to-json.js';
import { MemoryAttachmentStore } from '../../lib/attachments/memory-attachment-store.js';
import * as packageRoot from '../../lib/index.js';

describe('attachmentTableToJSON()', () => {
  it('gives JSON.stringify the mount paths and attachment ids a Map hides', async () => {
    const store = new MemoryAttachmentStore();
    await store.add('/mnt/b', 'i2/v');
    await store.add('/mnt/b', 'i1/v');
    await store.add('/mnt/a', 'i3/v');
    const table = await store.entries();
    expect(JSON.stringify(table)).to.equal('{}');
    expect(JSON.stringify(attachmentTableToJSON(table))).to.equal('{"/mnt/a":["i3/v"],"/mnt/b":["i1/v","i2/v"]}');
  });

  it('keeps a mount path named __proto__ as a plain key', () => {
    const json = attachmentTableToJSON(new Map([['__proto__', ['x/y']]]));
    expect(Object.keys(json)).to.deep.equal(['__proto__']);
    expect(JSON.parse(JSON.stringify(json))).to.deep.equal(JSON.parse('{"__proto__":["x/y"]}'));
  });

  it('copies, so changing the result leaves the table alone', () => {
    const ids = ['i/v'];
    const json = attachmentTableToJSON(new Map([['/mnt/a', ids]]));
    json['/mnt/a']?.push('x');
    expect(ids).to.deep.equal(['i/v']);
  });

  it('is exported from the package root', () => {
    expect(packageRoot.attachmentTableToJSON).to.equal(attachmentTableToJSON);
  });
});
