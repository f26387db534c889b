import { isImageReference } from '../oci/reference.js';
import { formatPath } from './values-paths.js';
import { isNullScalar, mapEntry, resolveAlias, type YamlTree, type YMap, type YNode } from './yaml-tree.js';

/*
 * Container images named in a chart's default values, for a new pack's `pack.content.images`
 * (the image inventory pack-central requires). Two conventions cover most charts:
 *   image: { registry?, repository, tag?, digest? }     (Bitnami and most helm-create charts)
 *   image: "registry/repo:tag"                           (a plain string under a key ending in "image")
 * Anything the values do not pin (an empty, missing, templated or "latest" tag) is flagged for review.
 */

export interface FoundImage {
  /** The reference as it goes into pack.content.images. */
  image: string;
  /** Where the chart's values name it, e.g. `controller.image`. */
  path: string;
  /** Why the author should check it; undefined when the values pin it fully. */
  review?: string;
}

export interface FindImagesOptions {
  /** Used for an empty tag, which most charts default to the chart's appVersion. */
  appVersion?: string;
  /** Path prefix for `path`, e.g. a subchart's key. */
  prefix?: string[];
  /** Stop after this many nodes (bounded work on hostile input). */
  maxNodes?: number;
}

function text(map: YMap, key: string, tree: YamlTree): string | undefined {
  const node = resolveAlias(mapEntry(map, key, tree.anchors)?.value, tree.anchors);
  if (node === undefined || node.kind !== 'scalar' || isNullScalar(node)) return undefined;
  return node.value.trim();
}

const TEMPLATED = /\{\{|\$\{/;
/** A plain image string: no spaces or URL scheme, and a `/` or `:` to tell it from other text. */
const IMAGE_STRING = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/;
/** A templated one (`{{ .Values.registry }}/app:1.0`): one line, short. */
const TEMPLATED_IMAGE_STRING = /^[^\n]{1,255}$/;

const NOT_A_REFERENCE = "no image reference as written (REGISTRY/REPOSITORY:TAG): the chart's templates build the image from more values than these; write the image it renders to";

function tagReview(tag: string | undefined, appVersion: string | undefined): { suffix: string; review?: string } {
  if (tag === undefined || tag === '') {
    if (appVersion !== undefined) {
      return { suffix: `:${appVersion}`, review: `the chart leaves the tag empty; packpub assumed the chart's appVersion (${appVersion}), which most charts default to` };
    }
    return { suffix: '', review: 'the chart does not set a tag; pin the version the chart deploys' };
  }
  if (TEMPLATED.test(tag)) return { suffix: `:${tag}`, review: 'the tag is templated; write the version it renders to' };
  if (tag === 'latest') return { suffix: ':latest', review: '"latest" is not a fixed version; pin a tag' };
  return { suffix: `:${tag}` };
}

/** Images in a chart's values tree, in document order, without duplicates. */
export function findImages(tree: YamlTree, options: FindImagesOptions = {}): FoundImage[] {
  const found = new Map<string, FoundImage>();
  let budget = options.maxNodes ?? 200_000;
  const add = (image: FoundImage): void => {
    if (found.has(image.image)) return;
    // What validate would call no image reference (values-image-reference): a part the chart's templates join
    // with another value (`baseRepo` + `repository: /sig-storage/csi-provisioner`), an upper-case letter, a short digest.
    const wrong = image.review === undefined && !TEMPLATED.test(image.image) && !isImageReference(image.image);
    found.set(image.image, wrong ? { ...image, review: NOT_A_REFERENCE } : image);
  };

  const visit = (node: YNode | undefined, path: Array<string | number>, key: string | undefined): void => {
    if (node === undefined || --budget < 0 || path.length > 64) return;
    // Aliases are not followed: an anchored image is found where it is defined.
    if (node.kind === 'seq') {
      node.items.forEach((item, i) => visit(item, [...path, i], key));
      return;
    }
    if (node.kind === 'scalar') {
      if (key === undefined || !/image$/i.test(key) || isNullScalar(node)) return;
      const value = node.value.trim();
      const templated = TEMPLATED.test(value);
      if (!(templated ? TEMPLATED_IMAGE_STRING.test(value) : IMAGE_STRING.test(value)) || !/[/:]/.test(value) || value.includes('://')) return;
      const lastSlash = value.lastIndexOf('/');
      const hasTag = value.slice(lastSlash + 1).includes(':') || value.includes('@');
      add({
        image: value,
        path: formatPath(path),
        ...(templated
          ? { review: 'the reference is templated; write the image it renders to' }
          : hasTag
            ? value.endsWith(':latest')
              ? { review: '"latest" is not a fixed version; pin a tag' }
              : {}
            : { review: 'no tag: pin the version the chart deploys' }),
      });
      return;
    }
    if (node.kind !== 'map') return;
    const repository = text(node, 'repository', tree);
    const looksLikeImage = repository !== undefined && repository !== '' && (/image/i.test(key ?? '') || mapEntry(node, 'tag', tree.anchors) !== undefined);
    if (looksLikeImage) {
      const registry = text(node, 'registry', tree);
      const digest = text(node, 'digest', tree);
      const { suffix, review } = tagReview(text(node, 'tag', tree), options.appVersion);
      const base = registry !== undefined && registry !== '' && !repository.startsWith(`${registry}/`) ? `${registry}/${repository}` : repository;
      const image = digest !== undefined && digest !== '' ? `${base}${suffix}@${digest}` : `${base}${suffix}`;
      const templated = TEMPLATED.test(base);
      add({
        image,
        path: formatPath(path),
        ...(templated ? { review: 'the repository is templated; write the image it renders to' } : review === undefined || (digest ?? '') !== '' ? {} : { review }),
      });
      return;
    }
    for (const entry of node.entries) visit(entry.value, [...path, entry.key], entry.key);
  };

  visit(tree.root, options.prefix ?? [], undefined);
  return [...found.values()];
}
