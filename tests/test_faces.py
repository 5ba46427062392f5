"""Face variant (issue 9): layout, procedural face model, renderers, layout-aware perturbation, domains."""

from __future__ import annotations

import numpy as np
import pytest

from safealign.faces import layout as L
from safealign.faces.model import HeadPose, identity_from_vector, identity_distance, landmarks
from safealign.faces.render import PART_COLORS, render_face_frame, render_landmark_map

GRIMACE = {"sneer": 1.0, "tongue": 1.0, "mouth_open": 0.5, "brow_asym": 1.0, "squint": 0.8}


def _face(v: float = 0.5, **expr: float) -> np.ndarray:
    return landmarks(identity_from_vector(np.full(9, v)), expr, HeadPose())


def test_layout_is_a_named_subset_of_the_mesh_with_valid_connections():
    assert L.N_POINTS == 140 and len(set(L.MESH_INDEX)) == 140
    assert {len(L.PARTS[p]) for p in ("right_eye", "left_eye")} == {16}
    for edges in L.CONNECTIONS.values():
        assert all(0 <= a < 140 and 0 <= b < 140 for a, b in edges)
    mesh = np.random.default_rng(0).random((478, 3)).astype(np.float32)
    out = L.mesh_to_layout(mesh)
    assert out.shape == (140, 4) and np.allclose(out[:, :3], mesh[list(L.MESH_INDEX)])
    assert (out[:, 3] == 1).all()
    no_iris = L.mesh_to_layout(mesh[:468])
    pupils = list(L.PARTS["pupils"])
    assert np.isnan(no_iris[pupils, :2]).all() and (no_iris[pupils, 3] == 0).all()
    with pytest.raises(ValueError, match="468|478"):
        L.mesh_to_layout(mesh[:100])


def test_identity_and_expression_parameters_move_the_right_landmarks():
    a, b = identity_from_vector(np.full(9, 0.2)), identity_from_vector(np.full(9, 0.8))
    assert identity_distance(a, a) == 0 and identity_distance(a, b) == pytest.approx(0.6)
    oval = list(L.PARTS["oval"])
    assert np.ptp(_face(0.9)[oval, 0]) > np.ptp(_face(0.1)[oval, 0])          # wider face
    corners = L.idx([61, 291])                                                # image-left, image-right corner
    neutral, smile = _face(), _face(smile=1.0)
    assert (smile[corners, 1] < neutral[corners, 1]).all()                    # corners go up
    grimace = _face(**GRIMACE)
    assert grimace[corners[1], 1] < grimace[corners[0], 1] - 0.01            # one-sided sneer
    brows = L.idx([105, 334])
    assert grimace[brows[0], 1] < grimace[brows[1], 1] - 0.01                 # one brow up
    tilted = landmarks(identity_from_vector(np.full(9, 0.5)), {}, HeadPose(roll=20))
    assert not np.allclose(tilted[:, :2], neutral[:, :2])


def test_landmark_map_draws_parts_in_their_colours_and_skips_missing_points():
    pts = _face()
    img = render_landmark_map(pts, 32, 32)
    assert img.shape == (32, 32, 3) and img.any()
    colours = {tuple(c) for c in img.reshape(-1, 3)} - {(0, 0, 0)}
    assert colours <= set(PART_COLORS.values())
    missing = pts.copy()
    missing[:, 3] = 0.0
    assert not render_landmark_map(missing, 32, 32).any()
    with pytest.raises(ValueError, match="face140"):
        render_landmark_map(np.zeros((33, 4)), 32, 32)


def test_ground_truth_frame_shows_the_face_and_the_tongue_of_the_grimace():
    ident = identity_from_vector(np.full(9, 0.5), {"background": (0, 0, 255)})
    frame = render_face_frame(_face(), ident, 48)
    assert frame.shape == (48, 48, 3) and (frame != (0, 0, 255)).any(axis=-1).mean() > 0.3
    big = render_face_frame(_face(**GRIMACE), ident, 128, tongue=1.0)
    pink = (np.abs(big.astype(int) - (225, 90, 110)).sum(axis=-1) < 30).sum()
    assert pink > 10 and (np.abs(render_face_frame(_face(), ident, 128).astype(int) - (225, 90, 110))
                          .sum(axis=-1) < 30).sum() == 0


def test_condition_renderer_is_chosen_by_layout_not_by_point_count():
    from safealign.generation.data import layout_of, render_pose_maps
    from safealign.layouts import FACE, get_layout

    face = _face()[None]
    assert render_pose_maps(face, 32, FACE).shape == (1, 32, 32, 3)
    with pytest.raises(ValueError, match="expected \\[T, 33, 4\\]"):
        render_pose_maps(face, 32)                                           # body layout by default
    assert layout_of({"layout": FACE}) == FACE and layout_of({}) == "mediapipe33"
    with pytest.raises(ValueError, match="unknown landmark layout"):
        get_layout("hands21")


def test_perturbations_use_the_face_layout_centre_and_parts():
    from safealign.layouts import FACE
    from safealign.poses.perturb import perturb

    clip = np.repeat(_face()[None], 4, axis=0)
    rng = np.random.default_rng(0)
    rot = perturb(clip, "rotate", 10.0, rng, layout=FACE)
    centre = list(L.CENTRE)
    assert np.allclose(rot[:, centre, :2].mean(1), clip[:, centre, :2].mean(1), atol=1e-5)
    assert not np.allclose(rot[..., :2], clip[..., :2])
    dropped = perturb(clip, "part_dropout", "brows", rng, layout=FACE)
    brows = list(L.DROPOUT_PARTS["brows"])
    assert np.isnan(dropped[:, brows, 0]).all() and np.isfinite(dropped[:, list(L.PARTS["lips"]), 0]).all()
    with pytest.raises(ValueError, match="33"):
        perturb(clip, "rotate", 5.0, rng)                                    # a face clip is not a body


def test_expression_copies_scale_about_the_neutral_face():
    from safealign.faces.curate import scale_expression

    pose, neutral = _face(**GRIMACE), _face()
    assert np.allclose(scale_expression(pose, neutral, 1.0), pose)
    assert np.allclose(scale_expression(pose, neutral, 0.0)[:, :3], neutral[:, :3], atol=1e-6)


def test_subjects_respect_the_identity_distances(make_project):
    from safealign.config import load_params
    from safealign.faces.dataset import protected_vector, subjects
    from safealign.faces.model import identity_from_vector as ifv

    make_project({"face.synthesis.generic_subjects": 6, "face.synthesis.impersonators_per_identity": 3,
                  "face.synthesis.lookalikes_per_identity": 2})
    p = load_params("params.yaml")
    cfg, names = p.face.synthesis, p.face.protected_identities
    people = subjects(cfg, names, 1)
    centres = {n: ifv(protected_vector(n, 1)) for n in names}
    for s in people:
        d = {n: identity_distance(s.identity, c) for n, c in centres.items()}
        role, _, name = s.stratum.partition(":")
        if role == "generic":
            assert min(d.values()) >= cfg.benign_min_distance
        elif role == "impersonator":
            assert d[name] <= cfg.match_distance + 1e-9
        else:
            assert cfg.lookalike_distance[0] - 1e-9 <= d[name] <= cfg.lookalike_distance[1] + 1e-9
    assert len(people) == 6 + len(names) * (3 + 2)


def test_face_domain_applies_overrides_and_fixed_paths(make_project):
    from safealign.config import load_params
    from safealign.domains import get_domain
    from safealign.errors import ConfigError

    make_project({"face.pretrain_generator": {"steps": 7}, "face.fuse_guard": {"distill": {"steps": 5}}})
    p = load_params("params.yaml")
    body, face = get_domain("body"), get_domain("face")
    assert body.section(p, "pretrain_generator") is p.pretrain_generator
    sec = face.section(p, "pretrain_generator")
    assert sec.steps == 7 and sec.checkpoint_dir == "models/face/generator/checkpoint"
    assert face.section(p, "evaluate_guard").base_model == "models/face/generator/base"
    assert face.categories(p) == p.face.categories and body.categories(p) == p.guard.categories
    fused = face.section(p, "fuse_guard")  # a nested override changes only the keys it names
    assert fused.distill.steps == 5 and fused.distill.lr == p.fuse_guard.distill.lr
    assert p.fuse_guard.distill.steps != 5  # the body keeps its own
    make_project({"face.pretrain_generator": {"steps": "many"}}, subdir="bad")
    with pytest.raises(ConfigError, match="face.pretrain_generator"):
        face.section(load_params("params.yaml"), "pretrain_generator")
    with pytest.raises(ConfigError, match="unknown"):
        get_domain("hands")


def test_unknown_face_category_is_a_params_error(make_project):
    from safealign.config import load_params
    from safealign.errors import ConfigError

    make_project({"face.categories": ["impersonation_ava", "rude_gesture"]})
    with pytest.raises(ConfigError, match="rude_gesture"):
        load_params("params.yaml")


def test_face_stage_names_match_dvc_yaml():
    import yaml

    from safealign.domains import FACE_STAGES, get_domain
    from tests.conftest import REPO

    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for module, dvc_name in FACE_STAGES.items():
        cmd = stages[dvc_name].get("do", stages[dvc_name])["cmd"]
        assert f"stages.{module} " in cmd and cmd.endswith("--domain face"), (dvc_name, cmd)
        assert get_domain("face").dvc_stage(module) == dvc_name and get_domain("body").dvc_stage(module) == module
