"""A user's photo on a face model is framed around the face found in it, like the training faces."""

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.data import astronaut

from aecli.data import DataRecipe, DataSpec, Reporter
from aecli.data.faces import DETECT_MARGIN, detect_face, face_frame, frame_for
from aecli.data.images import read_image
from aecli.data.inputs import read_inputs
from aecli.errors import AecliError

SPEC = DataSpec("lfw", channels=1, image_size=32, faces=True)
RECIPE = DataRecipe("lfw", image_size=32, crop=1.0)


def _astronaut_face_crop(fill: float, colour: bool = False) -> np.ndarray:
    """A square around her face, the face `fill` of its side (over 1: cut at the edges); grey unless `colour`."""
    grey = astronaut().mean(2).astype(np.uint8)
    cx, cy, side = detect_face(grey)
    half = round(side / fill / 2)
    photo = astronaut() if colour else grey
    return photo[round(cy) - half : round(cy) + half, round(cx) - half : round(cx) + half]


def test_the_bundled_cascade_finds_the_astronauts_face():
    cx, cy, side = detect_face(astronaut().mean(2).astype(np.uint8))
    assert 180 < cx < 260 and 80 < cy < 160 and 70 < side < 150  # her face, not the flag or the suit


def test_a_wide_photo_is_cropped_around_its_face(tmp_path):
    photo = tmp_path / "astronaut.png"
    Image.fromarray(astronaut()).save(photo)
    frame = torch.tensor([0.7, 0.0, 0.0])  # training faces fill 70% of the image, centred
    notes = []
    framed = read_inputs([photo], SPEC, RECIPE, notes.append, face_frame=frame)
    assert any("cropped around the face" in n for n in notes)
    assert not torch.equal(framed[0], torch.from_numpy(read_image(photo, 32, 1.0, grey=True)))


def test_a_photo_framed_like_the_training_faces_is_read_exactly_as_they_were(tmp_path):
    photo = tmp_path / "framed.png"
    Image.fromarray(_astronaut_face_crop(0.7, colour=True)).save(photo)
    pixels = read_inputs([photo], SPEC, RECIPE, face_frame=torch.tensor([0.7, 0.0, 0.0]))
    assert torch.equal(pixels[0], torch.from_numpy(read_image(photo, 32, 1.0, grey=True)))


def test_no_face_falls_back_to_the_centre_crop_and_says_so(tmp_path):
    photo = tmp_path / "wall.png"
    Image.fromarray(np.full((80, 120), 128, np.uint8)).save(photo)
    notes = []
    pixels = read_inputs([photo], SPEC, RECIPE, notes.append, face_frame=torch.tensor([0.7, 0.0, 0.0]))
    assert notes == [f"{photo}: no face found; using the centre crop"]
    assert torch.equal(pixels[0], torch.from_numpy(read_image(photo, 32, 1.0, grey=True)))


def test_the_training_frame_is_learnt_from_training_faces():
    crops = []
    for fill in (0.65, 0.7, 0.75, 0.7, 0.7, 0.68, 0.72, 0.7):
        crop = _astronaut_face_crop(fill, colour=True)
        crops.append(np.asarray(Image.fromarray(crop).resize((64, 64))).transpose(2, 0, 1))
    frame = face_frame(torch.from_numpy(np.stack(crops)), count=8)
    assert frame is not None and 0.55 < frame[0] < 0.85 and abs(frame[1]) < 0.2 and abs(frame[2]) < 0.2
    assert face_frame(torch.zeros(8, 1, 64, 64, dtype=torch.uint8), count=8) is None


def test_a_face_that_fills_the_photo_is_still_found():
    tight = _astronaut_face_crop(1.1)
    assert detect_face(tight, margin=0) is None  # the cascade's window needs room around a face
    cx, cy, side = detect_face(tight)
    height, width = tight.shape
    assert 0.7 * width < side < 1.2 * width
    assert abs(cx - width / 2) < 0.15 * width and abs(cy - height / 2) < 0.2 * height


def test_frames_carry_the_detectors_margin_and_older_frames_are_matched_without_one():
    crops = [np.asarray(Image.fromarray(_astronaut_face_crop(f)).resize((64, 64)))[None] for f in (0.7, 0.75, 0.8) * 3]
    frame = face_frame(torch.from_numpy(np.stack(crops)), count=9)
    assert frame.shape == (4,) and frame[3] == DETECT_MARGIN
    grey = _astronaut_face_crop(0.6)
    cx, cy, side = detect_face(grey, margin=0)
    assert detect_face(grey) != (cx, cy, side)  # the margin changes what is found here
    old = frame_for(grey, torch.tensor([0.7, 0.0, 0.0]))  # a frame saved before the margin
    assert old == pytest.approx((cx, cy, side / 0.7), rel=1e-6)
    for bad in ([0.7, 0.0], [0.0, 0.0, 0.0], [float("nan"), 0.0, 0.0, 0.15]):
        with pytest.raises(AecliError, match="face frame is malformed"):
            frame_for(grey, torch.tensor(bad))


@pytest.mark.parametrize("fill, low, high", [(0.89, 0.8, 1.0), (0.45, 0.35, 0.65)], ids=["tight crops", "room around"])
def test_without_crop_the_lfw_crop_is_chosen_from_where_the_faces_are(tmp_path, fill, low, high):
    from aecli.data import load_dataset

    face = _astronaut_face_crop(fill)
    for person in ("Ann_Alpha", "Bob_Beta", "Cid_Gamma", "Dee_Delta"):
        (tmp_path / "tree" / person).mkdir(parents=True)
        for number in range(1, 3):
            Image.fromarray(face).save(tmp_path / "tree" / person / f"{person}_{number:04d}.jpg", quality=95)
    notes = []
    data = load_dataset("lfw", tmp_path / "tree", reporter=Reporter(note=notes.append), image_size=16)
    assert low <= data.recipe.crop <= high  # the face framed as in training, and the crop recorded
    assert any(f"using --crop {data.recipe.crop}" in note for note in notes)
    given = load_dataset("lfw", tmp_path / "tree", reporter=Reporter(note=notes.append), image_size=16, crop=0.5)
    assert given.recipe.crop == 0.5  # --crop given: taken as it is
