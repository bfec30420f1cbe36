#!/usr/bin/env bash
# Tear a stack down, data included, in the two steps a protected (prod) stack needs:
#   1. `pulumi up` with mlops:teardown=true: lifts `protect`, sets forceDestroy on the
#      buckets (S3 will not delete a bucket that holds object versions) and forceDelete on
#      the repositories (ECR will not delete one that holds images, and the build cache
#      always does);
#   2. `pulumi destroy`.
# It asks for the stack name twice, unless CONFIRM=<stack> is given (for scripts).
set -euo pipefail

stack="${1:-}"
if [ -z "$stack" ]; then
  echo "usage: make teardown STACK=<stack>   (or: scripts/teardown.sh <stack>)" >&2
  exit 2
fi
command -v pulumi >/dev/null || { echo "teardown: the pulumi CLI is not on PATH" >&2; exit 1; }

cat <<MSG
This deletes stack '$stack' and everything in it: the data bucket with every object
version, the backup replica, the access logs, and the container images. KMS keys are
scheduled for deletion (30 days in prod, 7 in dev; \`aws kms cancel-key-deletion\` undoes it).
MSG

yes=()
if [ "${CONFIRM:-}" = "$stack" ]; then
  yes=(--yes)
else
  read -r -p "Type the stack name to continue: " first
  read -r -p "Type it once more: " second
  if [ "$first" != "$stack" ] || [ "$second" != "$stack" ]; then
    echo "teardown: the names did not match '$stack'; nothing was changed" >&2
    exit 1
  fi
fi

echo "Step 1 of 2: lift protection (pulumi up with mlops:teardown=true)"
pulumi config set --stack "$stack" mlops:teardown true
pulumi up --stack "$stack" "${yes[@]}"

echo "Step 2 of 2: destroy"
pulumi destroy --stack "$stack" "${yes[@]}"
# The stack file is back as it was; if destroy failed, the key stays and a re-run resumes.
pulumi config rm --stack "$stack" mlops:teardown
echo "Stack '$stack' is destroyed. \`pulumi stack rm $stack\` removes its (now empty) state."
