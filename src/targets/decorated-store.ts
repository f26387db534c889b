import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/manifest.js';
import type { ArtifactStore, DeleteScope, DeleteTagRequest, FetchedManifest, PushManifestOptions, StoreKind } from './artifact-store.js';

/**
 * An ArtifactStore that hands every call to another one; registry flavours (ECR, Harbor) extend it and
 * override only what their registry does differently.
 */
export class DecoratedStore implements ArtifactStore {
  readonly kind: StoreKind;
  readonly location: string;
  readonly deleteScope: DeleteScope;

  constructor(
    protected readonly inner: ArtifactStore,
    kind: StoreKind,
  ) {
    this.kind = kind;
    this.location = inner.location;
    this.deleteScope = inner.deleteScope;
  }

  reference(repository: string, tag?: string): string {
    return this.inner.reference(repository, tag);
  }
  getManifest(repository: string, reference: string): Promise<FetchedManifest | undefined> {
    return this.inner.getManifest(repository, reference);
  }
  headManifest(repository: string, reference: string): Promise<Descriptor | undefined> {
    return this.inner.headManifest(repository, reference);
  }
  pushManifest(repository: string, reference: string, bytes: Buffer, mediaType: string, options?: PushManifestOptions): Promise<Digest> {
    return this.inner.pushManifest(repository, reference, bytes, mediaType, options);
  }
  hasBlob(repository: string, digest: Digest): Promise<boolean> {
    return this.inner.hasBlob(repository, digest);
  }
  pushBlob(repository: string, descriptor: Descriptor, open: () => Readable): Promise<void> {
    return this.inner.pushBlob(repository, descriptor, open);
  }
  fetchBlob(repository: string, descriptor: Descriptor): Promise<Readable> {
    return this.inner.fetchBlob(repository, descriptor);
  }
  listTags(repository: string): Promise<string[]> {
    return this.inner.listTags(repository);
  }
  listRepositories(prefix: string): Promise<string[]> {
    return this.inner.listRepositories(prefix);
  }
  deleteTag(request: DeleteTagRequest): Promise<void> {
    return this.inner.deleteTag(request);
  }
  prepareRepository(repository: string): Promise<void> {
    return this.inner.prepareRepository(repository);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
