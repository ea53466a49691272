import { MemoryAttachmentStore } from '../../lib/attachments/memory-attachment-store.js';
import { describeAttachmentStoreContract } from './attachment-store-contract.js';

describeAttachmentStoreContract('MemoryAttachmentStore', () => new MemoryAttachmentStore());
