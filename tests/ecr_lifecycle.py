"""A model of how ECR evaluates a lifecycle policy, to test ours on a simulated history.

It follows the evaluation rules in the ECR user guide ("Lifecycle policy evaluation
rules"):
- rules are evaluated from the lowest `rulePriority` up;
- a rule selects images by tag status (`tagged` with a prefix or wildcard list,
  `untagged`, or `any`); `imageCountMoreThan` keeps the newest N of what it selects,
  by push time, and `sinceImagePushed` keeps what is younger than N days;
- an image that matches the tagging requirements of a rule cannot be expired by a rule
  of lower priority, but later rules still count it among what they select;
- an image is expired by one rule at most.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StoredImage:
    digest: str
    pushed_day: float
    tags: set[str] = field(default_factory=set)


def _selects(selection: dict[str, Any], image: StoredImage) -> bool:
    status = selection["tagStatus"]
    if status == "any":
        return True
    if status == "untagged":
        return not image.tags
    prefixes = selection.get("tagPrefixList", [])
    patterns = selection.get("tagPatternList", [])
    return any(tag.startswith(tuple(prefixes)) or any(fnmatch.fnmatchcase(tag, p) for p in patterns) for tag in image.tags)


def expired_by(policy: dict[str, Any], images: list[StoredImage], *, today: float) -> set[str]:
    """The digests the policy expires from `images` on day `today`."""
    claimed: set[str] = set()  # matched by a higher-priority rule: safe from the rules below
    expired: set[str] = set()
    for rule in sorted(policy["rules"], key=lambda r: r["rulePriority"]):
        selection = rule["selection"]
        selected = sorted((i for i in images if _selects(selection, i)), key=lambda i: i.pushed_day, reverse=True)
        if selection["countType"] == "imageCountMoreThan":
            candidates = selected[selection["countNumber"] :]
        else:
            candidates = [i for i in selected if today - i.pushed_day > selection["countNumber"]]
        expired |= {i.digest for i in candidates if i.digest not in claimed}
        claimed |= {i.digest for i in selected}
    return expired


def build_history(builds: int, *, release_prefix: str, cache_tag: str) -> list[StoredImage]:
    """What a repository holds after `builds` daily builds that push a release and move the cache.

    Each build pushes a new release tag and a new cache manifest under the one cache tag;
    the previous cache manifest keeps its digest and loses its tag.
    """
    images: list[StoredImage] = []
    cache: StoredImage | None = None
    for day in range(builds):
        images.append(StoredImage(f"release-{day}", day, {f"{release_prefix}{day:016x}"}))
        if cache is not None:
            cache.tags.clear()
        cache = StoredImage(f"cache-{day}", day, {cache_tag})
        images.append(cache)
    return images
