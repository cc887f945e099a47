// Where npm start puts its host instances: PORT and up, around the emulators' ports, and a clear error when
// two of them want one port.
import { describe, expect, it } from 'vitest';
import { instancePorts } from '../../src/local/ports';

const vault = { port: 7072, what: 'the Key Vault emulator', setting: 'KEY_VAULT_URI' };
const azurite = [10000, 10001, 10002].map((port) => ({ port, what: 'Azurite', setting: 'AzureWebJobsStorage' }));

describe('instancePorts', () => {
  it.each([
    [7071, 1, [7071]],
    [7071, 3, [7071, 7073, 7074]],
    [9998, 4, [9998, 9999, 10003, 10004]],
    [8000, 2, [8000, 8001]],
  ])('from %i, %i instances: %j', (first, count, expected) => {
    expect(instancePorts(first, count, [vault, ...azurite])).toEqual(expected);
  });

  it('says which settings collide when PORT is an emulator port, or two emulators share one', () => {
    expect(() => instancePorts(7072, 1, [vault])).toThrow(
      'Port 7072 is wanted by the Functions host (PORT) and by the Key Vault emulator (KEY_VAULT_URI): change one of them.',
    );
    expect(() => instancePorts(7071, 1, [{ ...vault, port: 10001 }, ...azurite])).toThrow(
      'Port 10001 is wanted by the Key Vault emulator (KEY_VAULT_URI) and by Azurite (AzureWebJobsStorage): change one of them.',
    );
  });
});
