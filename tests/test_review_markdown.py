"""offline/review_markdown.py: the PR comment, line by line, its cost lines and its budget."""

from __future__ import annotations

import json

import pytest

from offline.engine import Recording
from offline.review import build_report
from tests.review_support import BASE, dev_with_backup, every_kind_report, side
from tests.support import RunWith


def test_the_summary_survives_truncation(dev: Recording, dev_with_backup: Recording, monkeypatch: pytest.MonkeyPatch) -> None:
    import offline.review_markdown as review_markdown

    monkeypatch.setattr(review_markdown, "DETAIL_BUDGET", 10)
    markdown, _, _ = build_report({"dev": side(dev, "dev")}, {"dev": side(dev_with_backup, "dev")}, BASE)
    assert "| `dev` | dev | 13 | 0 | 0 | 0 |" in markdown
    assert "more changes left out to keep this comment short" in markdown


# --- cost in the Markdown ----------------------------------------------------------------------

def test_the_markdown_shows_the_training_run_cost_change(prod: Recording, run_with: RunWith) -> None:
    # A bigger GPU machine costs nothing while idle; only the per-run line shows what it costs.
    head = run_with("prod", **{"mlops:compute": {"machineType": "g2-standard-8"}})
    markdown, _, _ = build_report({"prod": side(prod, "prod")}, {"prod": side(head, "prod")}, BASE)
    assert ("- one training run on `gke-gpu`: g2-standard-4 on-demand $0.71 typical (1 h), upper bound $4.77 → "
            "g2-standard-8 on-demand $0.85 typical (1 h), upper bound $5.76") in markdown.splitlines()


def test_moving_training_to_gke_shows_the_cross_cloud_data_cost(prod: Recording, prod_on_aws: Recording) -> None:
    markdown, document, _ = build_report({"prod": side(prod_on_aws, "prod")}, {"prod": side(prod, "prod")}, BASE)
    (line,) = [line for line in markdown.splitlines() if line.startswith("- none (data and compute in one cloud) → ")]
    assert line.endswith("→ cross-cloud data: each GB a training run reads from S3 costs $0.135 (AWS data transfer out to "
                         "the internet $0.09/GB + Cloud NAT data processing on GKE $0.045/GB); the stack does not know "
                         "the data set's size, so multiply by the GB each run reads")
    assert json.loads(document)["stacks"]["prod"]["cost"]["crossCloudEgress"]["perGbReadUsd"] == 0.135


def test_the_markdown_has_no_training_line_when_its_cost_is_unchanged(dev: Recording, dev_with_backup: Recording) -> None:
    markdown, _, _ = build_report({"dev": side(dev, "dev")}, {"dev": side(dev_with_backup, "dev")}, BASE)
    assert "Training run cost" not in markdown


# --- the Markdown comment, line by line, for a change of every kind ----------------------------

REPORT_BODY = [
    '### Summary',
    '',
    '| stack | env | create | update | replace | delete | idle cost / month (base → head) | status |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- | --- |',
    '| `prod` | prod | 2 | 1 | 1 | 3 | $33.85 → $1.00 (-$32.85) + UNPRICED | compared |',
    '| `dev` | dev | 0 | 0 | 0 | 0 | $0.00 → $0.00 (+$0.00) + UNPRICED | compared |',
    '',
    '### Danger',
    '',
    '- **prod** (prod) · protected-delete · `aws:s3/bucket:Bucket` **data** is protected and would be replaced: `pulumi up` stops on it until it is unprotected',
    '- **prod** (prod) · protection-change · `aws:s3/bucket:Bucket` **data** protect: true -> false (protection removed)',
    '- **prod** (prod) · delete · `aws:kms/key:Key` **key** is deleted',
    '- **prod** (prod) · delete · `aws:ec2/natGateway:NatGateway` **nat** is deleted',
    '- **prod** (prod) · delete · `aws:sns/platformApplication:PlatformApplication` **gone** is deleted',
    '- **prod** (prod) · urn-change · `aws:kms/key:Key` **key2** URN changes without an alias: `urn:pulumi:s::mlops::aws:kms/key:Key::key` -> `urn:pulumi:s::mlops::aws:kms/key:Key::key2`; Pulumi deletes it and creates it again. Add `aliases=[...]` with the old URN if it is the same resource.',
    '- **prod** (prod) · replacement · `aws:s3/bucket:Bucket` **data** likely replaced (estimate): `bucket` changes, which the provider cannot update in place',
    '',
    '### Stack `prod`',
    '',
    '<details><summary>7 resource changes</summary>',
    '',
    '- `-` **delete** `aws:ec2/natGateway:NatGateway` **nat**',
    '- `-` **delete** `aws:kms/key:Key` **key**',
    '- `+` **create** `aws:kms/key:Key` **key2**',
    '- `+-` **replace** `aws:s3/bucket:Bucket` **data** [protected]',
    '  - replaces: `bucket` changes, which the provider cannot update in place',
    '  - option protect: true -> false',
    '  - `bucket`: `a` → `b`',
    '- `-` **delete** `aws:sns/platformApplication:PlatformApplication` **gone**',
    '- `~` **update** `aws:sns/platformApplication:PlatformApplication` **script**',
    '  - `size`: `1` → `2`',
    '  - `token`: changed (secret, value not shown)',
    '  - `userData` (changed lines):',
    '',
    '    ```diff',
    '    -line2',
    '    +line3',
    '    ```',
    '',
    '- `+` **create** `aws:sqs/queuePolicy:QueuePolicy` **q**',
    '',
    '</details>',
    '',
    '<details><summary>Cost: idle $33.85 → $1.00 (-$32.85) + UNPRICED a month</summary>',
    '',
    '| resource | base | head | delta |',
    '| --- | ---: | ---: | ---: |',
    '| `aws:ec2/natGateway:NatGateway` nat | $32.85 | – | -$32.85 |',
    '| `aws:kms/key:Key` key | $1.00 | – | -$1.00 |',
    '| `aws:kms/key:Key` key2 | – | $1.00 | $1.00 |',
    '| `aws:sns/platformApplication:PlatformApplication` gone | – | – | UNPRICED |',
    '| `aws:sqs/queuePolicy:QueuePolicy` q | – | – | UNPRICED |',
    '',
    '</details>',
    '',
    'UNPRICED (not counted): `aws:sns/platformApplication:PlatformApplication`, `aws:sqs/queuePolicy:QueuePolicy`',
    '',
    'Policy: 2 violation(s)',
    '',
    '- **mandatory** `s3-tls-only` `data-policy`: no tls',
    '- **advisory** `s3-bucket-key` `sse`: no key',
    '',
]
DEV_TAIL = ['### Stack `dev`', '', 'UNPRICED (not counted): `aws:sns/platformApplication:PlatformApplication`', '', 'Policy: 2 violation(s)', '', '- **mandatory** `s3-tls-only` `data-policy`: no tls', '- **advisory** `s3-bucket-key` `sse`: no key', '', 'No change in: `dev`.']


def test_the_comment_shows_every_kind_of_change_its_danger_cost_and_policy() -> None:
    # What the reviewer reads, line by line; policy results mandatory first.
    markdown, _ = every_kind_report()
    lines = markdown.splitlines()
    assert "**Labels:** `policy-violation`, `prod-delete`, `protection-change`, `replacement`" in lines
    summary = lines.index("### Summary")
    graph = lines.index("<details><summary>Graph of the changed resources and one hop around them</summary>")
    assert lines[summary:graph] == REPORT_BODY
    assert lines[lines.index("### Stack `dev`"):] == DEV_TAIL


@pytest.mark.parametrize(("length", "shown"), [(160, "a" * 160), (161, "a" * 159 + "…"), (400, "a" * 159 + "…")])
def test_a_long_value_is_cut_to_the_reports_width_with_an_ellipsis(length: int, shown: str) -> None:
    # A value over VALUE_CHARS is cut so that, with its ellipsis, it is exactly that wide: the
    # comment's tables stay readable, and a value that fits is never marked as cut.
    from offline.review_markdown import VALUE_CHARS, _value

    assert VALUE_CHARS == 160
    assert _value("a" * length) == f"`{shown}`"
