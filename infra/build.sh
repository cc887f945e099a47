#!/usr/bin/env bash
# npm run infra:build: compiles infra/main.bicep to dist-infra/main.json, then the parameter file from the
# environment when a deployment's required variables are set. Without them (no azd environment) it says which
# variables a deployment needs instead of failing: main.bicepparam reads them with readEnvironmentVariable and
# no default, which Bicep refuses to build while they are unset (BCP427).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p dist-infra
bash infra/bicep.sh build infra/main.bicep --outfile dist-infra/main.json
echo "Compiled infra/main.bicep to dist-infra/main.json."

required=$(grep -oE "readEnvironmentVariable\('[A-Z_]+'\)" infra/main.bicepparam | sed -E "s/.*\('([A-Z_]+)'\)/\1/" | sort -u)
optional=$(grep -oE "readEnvironmentVariable\('[A-Z_]+', " infra/main.bicepparam | sed -E "s/.*\('([A-Z_]+)'.*/\1/" | sort -u)
missing=""
for name in $required; do
  if [ -z "${!name:-}" ]; then missing="$missing $name"; fi
done
if [ -n "$missing" ]; then
  echo "Not built: dist-infra/main.parameters.json. A deployment needs these variables (azd env set NAME value;"
  echo "azd sets AZURE_ENV_NAME itself):"
  for name in $required; do echo "  $name$(case " $missing " in *" $name "*) echo ' (not set)';; esac)"; done
  echo "Optional, each with a default (docs/deployment.md):"
  echo "  $(echo $optional | sed 's/ /, /g')"
  exit 0
fi
bash infra/bicep.sh build-params infra/main.bicepparam --outfile dist-infra/main.parameters.json
echo "Built dist-infra/main.parameters.json from the environment."
