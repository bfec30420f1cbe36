"""How serving is exposed on GKE (components/gke/load_balancer.py): internal unless asked."""

from __future__ import annotations

from components.gke.load_balancer import load_balancer_annotations


def test_serving_goes_through_an_internal_load_balancer_by_default() -> None:
    assert load_balancer_annotations(public=False) == {"networking.gke.io/load-balancer-type": "Internal"}


def test_a_public_load_balancer_only_when_asked() -> None:
    assert load_balancer_annotations(public=True) == {}
