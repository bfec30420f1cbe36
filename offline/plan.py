"""`make plan`: show what a stack would create, offline, without the Pulumi CLI or a cloud.

The real program runs under the mock engine with the stack file's config. The output is
the resource tree (offline/plan_text.py): type, name, under its parent, with the settings
a reviewer checks on each resource (offline/plan_settings.py) and the facts under it, such
as IAM and KMS policy statements and security group rules (offline/plan_details.py); then
the stack outputs, a count by type, and the sample values still to replace
(offline/placeholders.py).

`--json` prints the recording instead (secrets redacted, offline/plan_json.py) and
`--graph` a Mermaid diagram of the stack. Every form is byte-stable: the same program and
config print the same bytes.
"""

from __future__ import annotations

import argparse
import sys

from components.config import ConfigError
from offline.engine import StackFileError, run_stack, stack_config
from offline.graph import mermaid
from offline.plan_json import render_json
from offline.plan_text import render, render_placeholders

WHOLE_STACK_CAP = 250  # `--graph` draws the whole stack; the diff keeps the default cap


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default="dev", help="stack name: stacks/Pulumi.<stack>.yaml (default: dev)")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print the recording as JSON (secrets redacted)")
    form.add_argument("--graph", action="store_true", help="print a Mermaid diagram of the whole stack")
    args = parser.parse_args(argv)
    try:
        recording = run_stack(args.stack)
    except StackFileError as error:
        print(error, file=sys.stderr)
        return 2
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(render_json(args.stack, recording))
    elif args.graph:
        print(mermaid(recording.resources, cap=WHOLE_STACK_CAP))
    else:
        print(render(args.stack, recording) + render_placeholders(stack_config(args.stack)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
