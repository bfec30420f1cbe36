"""offline/graph.py: the Mermaid diagram of `make graph` and of the diff report, on hand-made resources."""

from __future__ import annotations

from typing import Any

from offline.engine import Recording, Registration
from offline.graph import ACTION_STYLES, DEFAULT_CAP, edges, mermaid, node_id

STACK = "urn:pulumi:s::mlops::"


def reg(type_: str, name: str, *, custom: bool = True, parent: str = "", id_: str = "", state: dict[str, Any] | None = None,
        **inputs: Any) -> Registration:
    return Registration(type=type_, name=name, urn=f"{STACK}{type_}::{name}", id=id_, inputs=inputs, state=state or {},
                        parent=parent, provider="", protect=False, retain_on_delete=False, delete_before_replace=False,
                        custom=custom)


COMPONENT = reg("mlops:storage:DataBucket", "data", custom=False)
BUCKET = reg("aws:s3/bucket:Bucket", "data", parent=COMPONENT.urn, id_="mlops-data-1",
             state={"bucket": "mlops-data-1", "arn": "arn:aws:s3:::mlops-data-1"})
POLICY = reg("aws:s3/bucketPolicy:BucketPolicy", "data-policy", parent=COMPONENT.urn, bucket="mlops-data-1")
ROLE_POLICY = reg("aws:iam/rolePolicy:RolePolicy", "reader", resources=["arn:aws:s3:::mlops-data-1/*"])
REPO = reg("aws:ecr/repository:Repository", "serve", state={"repositoryUrl": "123.dkr.ecr/serve", "name": "ab"})
DEPLOYMENT = reg("kubernetes:apps/v1:Deployment", 'say "hi"', image="123.dkr.ecr/serve", note="ab")
CLUSTER = reg("gcp:container/cluster:Cluster", "gke")
ALL = [COMPONENT, BUCKET, POLICY, ROLE_POLICY, REPO, DEPLOYMENT, CLUSTER]


def test_edges_are_parents_and_references_by_id_arn_or_url() -> None:
    # A reference by the bucket's name, by an ARN with a /* suffix, by a repository URL; "ab" is
    # too short to be a handle (it would link everything that mentions it).
    assert edges(ALL) == {
        (COMPONENT.urn, BUCKET.urn, "parent"),
        (COMPONENT.urn, POLICY.urn, "parent"),
        (POLICY.urn, BUCKET.urn, "ref"),
        (ROLE_POLICY.urn, BUCKET.urn, "ref"),
        (DEPLOYMENT.urn, REPO.urn, "ref"),
    }


def test_a_resource_never_refers_to_itself() -> None:
    bucket = reg("aws:s3/bucket:Bucket", "data", id_="mlops-data-1", bucket="mlops-data-1")
    assert edges([bucket]) == set()


def test_the_whole_stack_is_drawn_with_shapes_labels_and_arrows() -> None:
    # A component is a rounded node, a resource a box; parent edges are solid, references dotted.
    n = node_id
    nodes = sorted([
        (COMPONENT.urn, f'  {n(COMPONENT.urn)}(["DataBucket<br/>data"])'),
        (BUCKET.urn, f'  {n(BUCKET.urn)}["s3.Bucket<br/>data"]'),
        (POLICY.urn, f'  {n(POLICY.urn)}["s3.BucketPolicy<br/>data-policy"]'),
        (ROLE_POLICY.urn, f'  {n(ROLE_POLICY.urn)}["iam.RolePolicy<br/>reader"]'),
        (REPO.urn, f'  {n(REPO.urn)}["ecr.Repository<br/>serve"]'),
        (DEPLOYMENT.urn, f'  {n(DEPLOYMENT.urn)}["apps.Deployment<br/>say \'hi\'"]'),
        (CLUSTER.urn, f'  {n(CLUSTER.urn)}["container.Cluster<br/>gke"]'),
    ])
    arrows = sorted([
        (COMPONENT.urn, BUCKET.urn, f"  {n(COMPONENT.urn)} --> {n(BUCKET.urn)}"),
        (COMPONENT.urn, POLICY.urn, f"  {n(COMPONENT.urn)} --> {n(POLICY.urn)}"),
        (POLICY.urn, BUCKET.urn, f"  {n(POLICY.urn)} -.-> {n(BUCKET.urn)}"),
        (ROLE_POLICY.urn, BUCKET.urn, f"  {n(ROLE_POLICY.urn)} -.-> {n(BUCKET.urn)}"),
        (DEPLOYMENT.urn, REPO.urn, f"  {n(DEPLOYMENT.urn)} -.-> {n(REPO.urn)}"),
    ])
    assert mermaid(ALL) == "\n".join(["graph LR", *(line for _, line in nodes), *(line for _, _, line in arrows)])


def test_a_node_id_is_n_and_ten_hex_digits_of_the_urn_hash() -> None:
    # Stable ids keep the diff report's graph byte-stable between runs.
    assert (node_id("urn:x"), node_id("urn:x") == node_id("urn:y")) == ("n1ff30242f9", False)


def test_a_diff_graph_draws_the_changes_and_one_hop_around_them_styled_by_action() -> None:
    drawn = mermaid(ALL, focus={BUCKET.urn: "replace", CLUSTER.urn: "create"})
    lines = drawn.splitlines()
    # The bucket's parent and the two policies that refer to it are drawn; the repository is not.
    assert {line.split("[")[0].split("(")[0].strip() for line in lines if line.startswith("  n") and " " not in line.strip()} == {
        node_id(u) for u in (BUCKET.urn, CLUSTER.urn, COMPONENT.urn, POLICY.urn, ROLE_POLICY.urn)}
    assert lines[-4:] == [
        f"  classDef create {ACTION_STYLES['create']}", f"  class {node_id(CLUSTER.urn)} create",
        f"  classDef replace {ACTION_STYLES['replace']}", f"  class {node_id(BUCKET.urn)} replace",
    ]


def test_each_action_has_its_colour() -> None:
    # Green create, yellow update, orange replace, red delete: a reviewer reads the risk at a glance.
    assert ACTION_STYLES == {
        "create": "fill:#d4f7d4,stroke:#2a7d2a",
        "update": "fill:#fff3c4,stroke:#a67c00",
        "replace": "fill:#ffd8b0,stroke:#c05800",
        "delete": "fill:#ffd0d0,stroke:#b00020",
    }


def test_several_members_of_one_action_share_a_class_line() -> None:
    drawn = mermaid(ALL, focus={BUCKET.urn: "delete", CLUSTER.urn: "delete"})
    assert drawn.splitlines()[-1] == f"  class {','.join(sorted([node_id(BUCKET.urn), node_id(CLUSTER.urn)]))} delete"


def test_the_cap_keeps_the_changes_and_counts_the_rest() -> None:
    # A comment has a size limit: the changed resources are drawn first, the neighbours as room allows.
    drawn = mermaid(ALL, focus={CLUSTER.urn: "update", BUCKET.urn: "update"}, cap=2)
    assert drawn.splitlines()[1:3] == [f'  {node_id(BUCKET.urn)}["s3.Bucket<br/>data"]',
                                       f'  {node_id(CLUSTER.urn)}["container.Cluster<br/>gke"]']
    assert drawn.splitlines()[-1] == '  more["+3 more not drawn (cap 2)"]'
    assert " --> " not in drawn and " -.-> " not in drawn


def test_exactly_the_cap_draws_everything_and_counts_nothing() -> None:
    assert "more not drawn" not in mermaid(ALL, cap=len(ALL))
    assert mermaid(ALL, cap=len(ALL) - 1).splitlines()[-1] == '  more["+1 more not drawn (cap 6)"]'


def test_the_default_cap_is_sixty_nodes() -> None:
    many = [reg("aws:sns/topic:Topic", f"t{i:03d}") for i in range(61)]
    assert DEFAULT_CAP == 60
    assert mermaid(many).splitlines()[-1] == '  more["+1 more not drawn (cap 60)"]'


def test_a_focus_on_a_resource_not_in_the_list_is_ignored() -> None:
    assert mermaid([CLUSTER], focus={"urn:gone": "delete", CLUSTER.urn: "create"}).splitlines()[:2] == [
        "graph LR", f'  {node_id(CLUSTER.urn)}["container.Cluster<br/>gke"]']


def test_an_unknown_package_shows_its_kind_only() -> None:
    assert mermaid([reg("random:index/randomPassword:RandomPassword", "p")]).splitlines()[1].endswith('["RandomPassword<br/>p"]')


def test_a_bucket_without_an_id_yet_is_still_found_by_its_name() -> None:
    # In a preview a resource's id is not known; its computed name still links its users to it.
    bucket = reg("aws:s3/bucket:Bucket", "data", state={"bucket": "mlops-data-1"})
    assert edges([bucket, POLICY]) == {(POLICY.urn, bucket.urn, "ref")}


def test_a_role_is_found_by_its_name() -> None:
    # Role policies and attachments name their role, not its ARN.
    role = reg("aws:iam/role:Role", "training", id_="training-1a2b", state={"name": "mlops-training"})
    policy = reg("aws:iam/rolePolicy:RolePolicy", "training-policy", role="mlops-training")
    assert edges([role, policy]) == {(policy.urn, role.urn, "ref")}


def test_a_handle_needs_four_characters() -> None:
    # Short names ("b", "dev", "gpu") appear in many inputs; as handles they would link unrelated resources.
    three, four = reg("aws:sns/topic:Topic", "t3", state={"name": "dev"}), reg("aws:sns/topic:Topic", "t4", state={"name": "prod"})
    user = reg("aws:sqs/queue:Queue", "user", a="dev", b="prod")
    assert edges([three, four, user]) == {(user.urn, four.urn, "ref")}


def test_under_the_cap_the_neighbours_are_drawn_by_urn_order() -> None:
    # Byte-stable: the same neighbour is drawn every run, the rest are counted.
    drawn = mermaid(ALL, focus={BUCKET.urn: "update"}, cap=2)
    assert [line.split("[")[0].strip() for line in drawn.splitlines()[1:3]] == [node_id(u) for u in sorted([BUCKET.urn, ROLE_POLICY.urn])]
    assert drawn.splitlines()[-1] == '  more["+2 more not drawn (cap 2)"]'


# --- a real stack -------------------------------------------------------------------------------


def test_graph_is_capped_and_stable(prod: Recording) -> None:
    drawn = mermaid(prod.resources, cap=5)
    assert drawn == mermaid(list(reversed(prod.resources)), cap=5)
    assert len([line for line in drawn.splitlines() if line.strip().startswith("n") and "[" in line]) == 5
    assert f"+{len(prod.resources) - 5} more not drawn (cap 5)" in drawn
