#!/usr/bin/env bash
# Runs the Bicep CLI: `bicep` from PATH, else the official CLI restored from the NuGet package
# Azure.Bicep.CommandLine.linux-x64 with dotnet (no Azure CLI, no download script).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if command -v bicep >/dev/null 2>&1; then exec bicep "$@"; fi
version="0.49.2"
# Restored once per user, not per clone (a fresh clone would otherwise spend its first build on it).
packages="${BICEP_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/backoffice-connector/bicep-cli}"
bin="$packages/azure.bicep.commandline.linux-x64/$version/tools/bicep"
if [ ! -x "$bin" ]; then
  dotnet restore "$root/infra/tools/bicep-restore.csproj" --packages "$packages" --verbosity quiet >&2
  chmod +x "$bin"
fi
exec "$bin" "$@"
