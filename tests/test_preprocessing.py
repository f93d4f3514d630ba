"""Training and inference prepare faces the same way."""

import numpy as np

from core.emotions import EmotionClassifier
from core.faces import crop_face, square_box
from training.train import one_hot


def test_square_box_is_square_and_centred():
    x, y, w, h = square_box((100, 50, 40, 60), margin=0.25)
    assert w == h == 90
    assert (x + w / 2, y + h / 2) == (120, 80)


def test_crop_of_a_fer_frame_is_the_fer_image(fer_small):
    """A FER2013 face pasted into a larger picture and cropped at its frame comes back unchanged."""
    face = fer_small.images[3]
    canvas = np.full((200, 300), 90, np.uint8)
    canvas[60:108, 100:148] = face
    np.testing.assert_array_equal(crop_face(canvas, (100, 60, 48, 48), size=48, margin=0.0), face)


def test_crop_of_a_colour_upscaled_face_matches_closely(fer_small):
    face = fer_small.images[5]
    big = np.dstack([np.kron(face, np.ones((4, 4), np.uint8))] * 3)  # 192 px BGR
    crop = crop_face(big, (0, 0, 192, 192), size=48, margin=0.0)
    assert np.abs(crop.astype(int) - face.astype(int)).max() <= 1


def test_crop_beyond_the_border_replicates_edges():
    image = np.arange(100 * 100, dtype=np.uint32).reshape(100, 100).astype(np.uint8)
    crop = crop_face(image, (80, 80, 30, 30), size=48, margin=0.25)
    assert crop.shape == (48, 48)


def test_inference_path_equals_the_training_validation_path(tiny_model_file, fer_small):
    """The classifier feeds the model exactly what training validated on (raw 0..255, 48x48x1)."""
    from core.model import load_model

    model, _ = load_model(tiny_model_file)
    images, labels = fer_small.split("PublicTest")
    as_in_training = model.predict(images[..., None].astype(np.float32), verbose=0)
    as_in_product = EmotionClassifier(tiny_model_file).probabilities(images)
    np.testing.assert_allclose(as_in_product, as_in_training, atol=1e-5)
    assert one_hot(labels).shape == (len(labels), 7)
