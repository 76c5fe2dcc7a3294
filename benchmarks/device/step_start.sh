# Sourced by each benchmarks/device/steps/<name>.sh as its first action:
#   source "$(dirname "$0")/../step_start.sh" <name> <budget seconds>
# Goes to the repository root, makes $out = $WORK/<name>, starts the step's clock (t0) and defines
#   left      seconds of the budget still left (at least 1)
#   cap N     min(N, left): the timeout to give one part, so the parts together keep to the budget
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="$WORK/$1"
mkdir -p "$out"
step_budget="$2"
t0=$(date +%s)
left() { local l=$(( step_budget - ($(date +%s) - t0) )); echo $(( l < 1 ? 1 : l )); }
cap() { local l; l=$(left); echo $(( $1 < l ? $1 : l )); }
