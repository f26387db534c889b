/** Media types used by packs. OCI image-spec v1.0.2 (what ORAS 1.0.0 writes). */
export const MEDIA_TYPE_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_TYPE_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_TYPE_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const MEDIA_TYPE_DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
/** ORAS 1.0 uses this config type when none is given (oras-go v2.0.2 `MediaTypeUnknownConfig`). */
export const MEDIA_TYPE_UNKNOWN_CONFIG = 'application/vnd.unknown.config.v1+json';
/** ORAS 1.0 does not sniff `.tar.gz`: file layers are typed as plain tar (oras-go `DefaultBlobMediaType`). */
export const MEDIA_TYPE_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
export const MEDIA_TYPE_OCTET_STREAM = 'application/octet-stream';

export const ANNOTATION_TITLE = 'org.opencontainers.image.title';
export const ANNOTATION_CREATED = 'org.opencontainers.image.created';
/** Tag of a manifest inside an OCI image layout's index.json (image-spec annotations.md). */
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

/** Every manifest type we accept when reading, for the Accept header. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPE_OCI_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
] as const;

/**
 * Config types of one-layer artifacts that are not packs (a pack's config is ORAS's unknown config or the
 * OCI empty config): container images (OCI and Docker) and Helm charts. Pulling one as a pack would unpack a
 * container filesystem or a chart as if it were a pack folder.
 */
export const NOT_PACK_CONFIG_TYPES: ReadonlyMap<string, string> = new Map([
  ['application/vnd.oci.image.config.v1+json', 'a container image'],
  ['application/vnd.docker.container.image.v1+json', 'a container image'],
  ['application/vnd.cncf.helm.config.v1+json', 'a Helm chart'],
]);
