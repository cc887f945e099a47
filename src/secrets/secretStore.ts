// Where connector credentials live. The table keeps only a reference (name + version), never a value.

export interface SecretRef {
  name: string;
  version: string;
}

export interface SecretStore {
  /** Writes a new version (recovering a soft-deleted name first) and returns its reference. */
  set(name: string, value: string, options?: { expiresOn?: Date }): Promise<SecretRef>;
  /** The value of exactly that version; undefined when the secret or version does not exist. */
  get(ref: SecretRef): Promise<string | undefined>;
  /** Sets when a version expires (Key Vault's expiry attribute: informational, the value stays readable). */
  setExpiry(ref: SecretRef, expiresOn: Date): Promise<void>;
  /** Makes a version unusable (compensation when the table write that should reference it failed). */
  disable(ref: SecretRef): Promise<void>;
  /** Soft delete; a missing secret is not an error. */
  delete(name: string): Promise<void>;
  /** Undoes a soft delete (compensation when the table delete failed). */
  recover(name: string): Promise<void>;
  /** A cheap authenticated round trip, for the deep health check. */
  ping(): Promise<void>;
}

/** Key Vault names: 1-127 of [0-9a-zA-Z-]. One secret per connector, named after its id. */
export const connectorSecretName = (connectorId: string): string => `conn-${connectorId}`;
