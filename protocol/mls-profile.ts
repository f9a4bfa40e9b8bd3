// The project's MLS profile in one place: the ciphersuite the homeserver validates, and every MLS
// extension type it defines or relies on beyond RFC 9420's defaults. Custom types live in the
// private-use range (0xff00 and up); add new ones here so numbers never collide.

/** MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519 */
export const MLS_CIPHERSUITE_ID = 1;
export const MLS_CIPHERSUITE_NAME = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519' as const;

export const MlsExtensionType = {
  /** KeyPackage of last resort (draft-ietf-mls-extensions, IANA 0x000A); empty data. */
  LAST_RESORT: 0x000a,
  /** KeyPackage extension carrying the owner's ClientQueueConfig (schemas/qs.proto), protobuf-encoded. */
  QUEUE_CONFIG: 0xff00,
} as const;
