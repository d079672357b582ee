#!/usr/bin/env bash
# Records replay fixtures: runs the order scenarios on a real stack and saves
# each finished workflow's history to tests/fixtures/histories. Run it before
# changing workflow code, and commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
RECORD_HISTORIES=1 npx jest tests/order-branches.test.ts tests/returns.test.ts tests/exceptions.test.ts tests/procure-to-pay.test.ts tests/replenishment.test.ts tests/activity-failures.test.ts tests/notifications.test.ts tests/reconciliation.test.ts tests/warehouse-truth.test.ts "$@"
ls tests/fixtures/histories | wc -l | xargs echo "histories recorded:"
