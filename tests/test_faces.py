"""A user's photo on a face model is framed around the face found in it, like the training faces."""

import numpy as np
import torch
from PIL import Image
from skimage.data import astronaut

from aecli.data import DataRecipe, DataSpec
from aecli.data.faces import detect_face, face_frame
from aecli.data.images import read_image
from aecli.data.inputs import read_inputs

SPEC = DataSpec("lfw", channels=1, image_size=32, faces=True)
RECIPE = DataRecipe("lfw", image_size=32, crop=1.0)


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
    cx, cy, side = detect_face(astronaut().mean(2).astype(np.uint8))
    half = round(side / 0.7 / 2)
    crop = astronaut()[round(cy) - half : round(cy) + half, round(cx) - half : round(cx) + half]
    photo = tmp_path / "framed.png"
    Image.fromarray(crop).save(photo)
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
    cx, cy, side = detect_face(astronaut().mean(2).astype(np.uint8))
    for margin in (0.65, 0.7, 0.75, 0.7, 0.7, 0.68, 0.72, 0.7):
        half = round(side / margin / 2)
        crop = astronaut()[round(cy) - half : round(cy) + half, round(cx) - half : round(cx) + half]
        crops.append(np.asarray(Image.fromarray(crop).resize((64, 64))).transpose(2, 0, 1))
    frame = face_frame(torch.from_numpy(np.stack(crops)), count=8)
    assert frame is not None and 0.55 < frame[0] < 0.85 and abs(frame[1]) < 0.2 and abs(frame[2]) < 0.2
    assert face_frame(torch.zeros(8, 1, 64, 64, dtype=torch.uint8), count=8) is None
