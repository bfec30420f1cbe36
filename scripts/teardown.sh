#!/usr/bin/env bash
# Tear a stack down, data included, in the two steps a protected (prod) stack needs:
#   1. `pulumi up` with mlops:teardown=true: lifts `protect`, sets forceDestroy on the
#      buckets (S3 will not delete a bucket that holds object versions) and forceDelete on
#      the repositories (ECR will not delete one that holds images, and the build cache
#      always does);
#   2. `pulumi destroy`.
# mlops:teardown stays true only once step 1 has succeeded, so a run that finds it true
# resumes at step 2: an `up` then would recreate what the failed destroy had deleted.
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

if [ "$(pulumi config get --stack "$stack" mlops:teardown 2>/dev/null || true)" = true ]; then
  echo "Step 1 of 2: done by an earlier run (mlops:teardown is true); resuming at the destroy"
else
  echo "Step 1 of 2: lift protection (pulumi up with mlops:teardown=true)"
  pulumi config set --stack "$stack" mlops:teardown true
  if ! pulumi up --stack "$stack" "${yes[@]}"; then
    # Nothing was deleted yet; without the key, the next run starts here again.
    pulumi config rm --stack "$stack" mlops:teardown
    echo "teardown: step 1 failed and nothing was deleted; fix the cause and run it again" >&2
    exit 1
  fi
fi

# A cluster of your own (serving.cluster kubeconfig, the default) may be gone already, a
# deleted kind cluster say, and its objects with it: drop those from state rather than stop at
# the first. Only here: on a refresh or an up, a passing outage would drop live objects.
cluster="$(pulumi config get --stack "$stack" --path mlops:serving.cluster 2>/dev/null || echo kubeconfig)"
destroy_env=()
if [ "$cluster" = kubeconfig ]; then
  destroy_env=(env PULUMI_K8S_DELETE_UNREACHABLE=true)
fi

echo "Step 2 of 2: destroy"
if ! "${destroy_env[@]}" pulumi destroy --stack "$stack" "${yes[@]}"; then
  echo "teardown: destroy failed; mlops:teardown stays true, so running this again resumes at" \
    "the destroy. If it refused a protected resource, step 1 never finished: run" \
    "\`pulumi config rm --stack $stack mlops:teardown\` first" >&2
  exit 1
fi
# The stack file is back as it was.
pulumi config rm --stack "$stack" mlops:teardown
echo "Stack '$stack' is destroyed. \`pulumi stack rm $stack\` removes its (now empty) state."
