"""Skeleton layouts: MediaPipe-33 (the canonical layout), COCO-17, OpenPose-18 and the MediaPipe face mesh.

MediaPipe-33 arrays are ``[..., 33, 4]`` = (x, y normalised to the frame, z relative depth, visibility);
a missing landmark is NaN with visibility 0. OpenPose-18 arrays are ``[..., 18, 3]`` = (x, y, confidence).
Index tables follow ../shared/docs/poseguard.md sections 3.4-3.5.
"""

from __future__ import annotations

MP33_NAMES: list[str] = [
    "nose",
    "left_eye_inner", "left_eye", "left_eye_outer",
    "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear",
    "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
    "left_pinky", "right_pinky",
    "left_index", "right_index",
    "left_thumb", "right_thumb",
    "left_hip", "right_hip",
    "left_knee", "right_knee",
    "left_ankle", "right_ankle",
    "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
]
N_MP33 = 33

NOSE = 0
L_EYE_INNER, L_EYE, L_EYE_OUTER = 1, 2, 3
R_EYE_INNER, R_EYE, R_EYE_OUTER = 4, 5, 6
L_EAR, R_EAR = 7, 8
MOUTH_L, MOUTH_R = 9, 10
L_SHOULDER, R_SHOULDER = 11, 12
L_ELBOW, R_ELBOW = 13, 14
L_WRIST, R_WRIST = 15, 16
L_PINKY, R_PINKY = 17, 18
L_INDEX, R_INDEX = 19, 20
L_THUMB, R_THUMB = 21, 22
L_HIP, R_HIP = 23, 24
L_KNEE, R_KNEE = 25, 26
L_ANKLE, R_ANKLE = 27, 28
L_HEEL, R_HEEL = 29, 30
L_FOOT_INDEX, R_FOOT_INDEX = 31, 32

# Landmark groups used for part dropout and visibility summaries.
MP33_FACE = tuple(range(0, 11))
MP33_LEFT_HAND = (L_WRIST, L_PINKY, L_INDEX, L_THUMB)
MP33_RIGHT_HAND = (R_WRIST, R_PINKY, R_INDEX, R_THUMB)
MP33_HANDS = (L_PINKY, R_PINKY, L_INDEX, R_INDEX, L_THUMB, R_THUMB)

# The 35 edges MediaPipe draws (mp.solutions.pose.POSE_CONNECTIONS), as 0-based index pairs.
MP33_CONNECTIONS: list[tuple[int, int]] = [
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16),
    (15, 17), (15, 19), (15, 21), (17, 19), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (24, 26), (26, 28),
    (27, 29), (29, 31), (27, 31), (28, 30), (30, 32), (28, 32),
]

# The body's rigid segments whose directions describe a pose: shoulder line, upper and fore arms, torso sides,
# hip line, thighs and shins (face, hand and foot details left out).
MP33_LIMB_BONES: tuple[tuple[int, int], ...] = (
    (L_SHOULDER, R_SHOULDER), (L_SHOULDER, L_ELBOW), (L_ELBOW, L_WRIST),
    (R_SHOULDER, R_ELBOW), (R_ELBOW, R_WRIST),
    (L_SHOULDER, L_HIP), (R_SHOULDER, R_HIP), (L_HIP, R_HIP),
    (L_HIP, L_KNEE), (L_KNEE, L_ANKLE), (R_HIP, R_KNEE), (R_KNEE, R_ANKLE),
)

# Left/right swap of MP33 indices (a horizontal mirror must also swap sides).
MP33_FLIP: list[int] = [0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19, 22, 21,
                        24, 23, 26, 25, 28, 27, 30, 29, 32, 31]

COCO17_NAMES: list[str] = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
]
# COCO-17 index -> MediaPipe-33 index.
MP33_TO_COCO17: tuple[int, ...] = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)

OPENPOSE18_NAMES: list[str] = [
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
]
N_OPENPOSE18 = 18
OP_NECK = 1
# OpenPose-18 index -> MediaPipe-33 index; None for the neck, which is the shoulder midpoint.
MP33_TO_OPENPOSE18: tuple[int | None, ...] = (
    NOSE, None, R_SHOULDER, R_ELBOW, R_WRIST, L_SHOULDER, L_ELBOW, L_WRIST,
    R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE, R_EYE, L_EYE, R_EAR, L_EAR,
)

# The 17 limbs OpenPose / ControlNet / DWPose draw (reference list is 1-based; these are 0-based).
# Limb i is drawn in OPENPOSE_COLORS[i]; the reference's two extra pairs are never drawn.
OPENPOSE_LIMBS: list[tuple[int, int]] = [
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
    (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
]
# Joint colours (RGB), one per OpenPose-18 joint; limbs use the same list at 0.6x.
OPENPOSE_COLORS: list[tuple[int, int, int]] = [
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
    (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
    (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
]
OPENPOSE_LIMB_DIM = 0.6      # limbs end at 60 % of their colour (canvas scaled before joints are drawn)
OPENPOSE_THRESHOLD = 0.3     # DWPose draws a point only when its score exceeds this
OPENPOSE_REF_SIZE = 512      # stick width 4 / joint radius 4 are defined at this short side

# MediaPipe face mesh: 468 landmarks, 478 with refine_landmarks=True (10 iris points appended).
FACE_N = 468
FACE_N_REFINED = 478
FACE_RIGHT_IRIS_CENTER = 468
FACE_LEFT_IRIS_CENTER = 473
FACE_RIGHT_IRIS = (469, 470, 471, 472)
FACE_LEFT_IRIS = (474, 475, 476, 477)
FACE_NOSE_TIP = 1
FACE_CHIN = 152
FACE_FOREHEAD = 10
# Contour edges of the face mesh (mp.solutions.face_mesh_connections), copied: no mediapipe import needed.
FACE_OVAL: list[tuple[int, int]] = [
    (10, 338), (338, 297), (297, 332), (332, 284), (284, 251), (251, 389), (389, 356), (356, 454), (454, 323),
    (323, 361), (361, 288), (288, 397), (397, 365), (365, 379), (379, 378), (378, 400), (400, 377),
    (377, 152),
    (152, 148), (148, 176), (176, 149), (149, 150), (150, 136), (136, 172), (172, 58), (58, 132), (132, 93),
    (93, 234), (234, 127), (127, 162), (162, 21), (21, 54), (54, 103), (103, 67), (67, 109), (109, 10),
]
FACE_LIPS: list[tuple[int, int]] = [
    (61, 146), (146, 91), (91, 181), (181, 84), (84, 17), (17, 314), (314, 405), (405, 321), (321, 375),
    (375, 291), (61, 185), (185, 40), (40, 39), (39, 37), (37, 0), (0, 267), (267, 269), (269, 270),
    (270, 409), (409, 291), (78, 95), (95, 88), (88, 178), (178, 87), (87, 14), (14, 317), (317, 402),
    (402, 318), (318, 324), (324, 308), (78, 191), (191, 80), (80, 81), (81, 82), (82, 13), (13, 312),
    (312, 311), (311, 310), (310, 415), (415, 308),
]
FACE_LEFT_EYE: list[tuple[int, int]] = [
    (263, 249), (249, 390), (390, 373), (373, 374), (374, 380), (380, 381), (381, 382), (382, 362),
    (263, 466), (466, 388), (388, 387), (387, 386), (386, 385), (385, 384), (384, 398), (398, 362),
]
FACE_RIGHT_EYE: list[tuple[int, int]] = [
    (33, 7), (7, 163), (163, 144), (144, 145), (145, 153), (153, 154), (154, 155), (155, 133),
    (33, 246), (246, 161), (161, 160), (160, 159), (159, 158), (158, 157), (157, 173), (173, 133),
]
FACE_LEFT_EYEBROW: list[tuple[int, int]] = [
    (276, 283), (283, 282), (282, 295), (295, 285), (300, 293), (293, 334), (334, 296), (296, 336),
]
FACE_RIGHT_EYEBROW: list[tuple[int, int]] = [
    (46, 53), (53, 52), (52, 65), (65, 55), (70, 63), (63, 105), (105, 66), (66, 107),
]
FACE_CONTOURS: list[tuple[int, int]] = (
    FACE_OVAL + FACE_LIPS + FACE_LEFT_EYE + FACE_RIGHT_EYE + FACE_LEFT_EYEBROW + FACE_RIGHT_EYEBROW
)
FACE_IRIS_EDGES: list[tuple[int, int]] = [
    (469, 470), (470, 471), (471, 472), (472, 469), (474, 475), (475, 476), (476, 477), (477, 474),
]
