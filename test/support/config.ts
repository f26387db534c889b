/**
 * The Harbor target of the packpub.yaml examples (docs/configuration.md), as lines under `targets:`; it
 * ends inside `auth`, so a test can add auth keys and then its own sections.
 */
export const HARBOR_TARGET_YAML = `  harbor:
    registry: harbor.example.com/spectro-oci-registry
    type: harbor
    auth:
      username: robot$spectro-oci-registry+ci
      passwordEnv: HARBOR_PASSWORD
`;
