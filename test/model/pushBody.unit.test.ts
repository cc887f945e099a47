// The push contract, pinned with literal values (docs/contracts.md). The delivery id was checked against an
// independent UUID v5 implementation (Python's uuid.uuid5 with the same namespace and name).
import { describe, expect, it } from 'vitest';
import { buildPushBody, deliveryId } from '../../src/model/pushBody';
import { GOLDEN_BODY, GOLDEN_CONNECTOR, goldenChange } from '../support/goldenChange';

describe('the deterministic delivery id', () => {
  it('is the name-based UUID of connector, appointment GUID and revision', () => {
    expect(deliveryId(GOLDEN_CONNECTOR, '5e2c7a90-1b3d-4f6e-8a9c-0d1e2f3a4b5c', 17)).toBe(
      '40172c6a-4735-5103-8a92-d6edf0ebab05',
    );
  });

  it('ignores the case of the ids, and changes with each part', () => {
    expect(deliveryId(GOLDEN_CONNECTOR.toUpperCase(), '5E2C7A90-1B3D-4F6E-8A9C-0D1E2F3A4B5C', 17)).toBe(
      '40172c6a-4735-5103-8a92-d6edf0ebab05',
    );
    expect(deliveryId(GOLDEN_CONNECTOR, '5e2c7a90-1b3d-4f6e-8a9c-0d1e2f3a4b5c', 18)).not.toBe(
      '40172c6a-4735-5103-8a92-d6edf0ebab05',
    );
  });
});

describe('the push body (REST API page, webhook, $batch operation)', () => {
  it('is exactly the contract for a fixed change', () => {
    expect(JSON.stringify(buildPushBody(GOLDEN_CONNECTOR, goldenChange()))).toBe(GOLDEN_BODY);
  });
});
