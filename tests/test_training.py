"""Real training of a tiny model on a small slice of the real CSV, and --resume."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.model import read_contract
from training import fer2013, ferplus
from training.augment import augment_batch
from training.config import TrainConfig, TrainState, cosine_learning_rate
from training.train import drop_blank, load_splits, train

pytestmark = pytest.mark.slow


def test_one_epoch_then_resume(fer_csv, ferplus_csv, tmp_path):
    config = TrainConfig(data=fer_csv, out=tmp_path, epochs=1, limit_per_split=256, widths=(4, 8, 8, 8), dense=8)
    metrics = train(config, progress=False)
    assert metrics["epochs_run"] == 1
    assert (tmp_path / "curves.png").stat().st_size > 1000
    assert read_contract(tmp_path / "emotion_cnn.keras").labels[3] == "happy"
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert 0.0 <= saved["public_test_accuracy"] <= 1.0
    assert saved["train_images"] == 256

    config.epochs = 2
    metrics = train(config, resume=True, progress=False)
    state = TrainState.load(tmp_path / "checkpoint" / "state.json")
    assert state.epoch == 2 and [row["epoch"] for row in state.history] == [1, 2]
    assert metrics["epochs_run"] == 2

    # A cosine restart as a new phase: starts at its learning rate, anneals to the floor by the last epoch.
    config.epochs, config.schedule, config.learning_rate = 4, "cosine", 4e-4
    train(config, resume=True, progress=False)
    state = TrainState.load(tmp_path / "checkpoint" / "state.json")
    assert state.phase_start == 2
    assert [(row["schedule"], row["learning_rate"]) for row in state.history[2:]] == [
        ("cosine", pytest.approx(4e-4)),
        ("cosine", pytest.approx(config.min_learning_rate)),
    ]

    # Blending in the FER+ votes is a phase of its own too.
    config.epochs, config.ferplus = 5, ferplus_csv
    train(config, resume=True, progress=False)
    state = TrainState.load(tmp_path / "checkpoint" / "state.json")
    assert state.phase_start == 4
    assert [row["targets"] for row in state.history[3:]] == ["fer2013", "fer2013+ferplus@0.3"]

    # So is another cosine cycle that differs only in its start learning rate; a plain resume is not.
    config.epochs, config.learning_rate = 6, 2e-4
    train(config, resume=True, progress=False)
    config.epochs = 7
    train(config, resume=True, progress=False)
    state = TrainState.load(tmp_path / "checkpoint" / "state.json")
    assert state.phase_start == 5
    assert state.history[5]["learning_rate"] == pytest.approx(2e-4)


def test_ferplus_votes_line_up_with_fer2013_rows(fer_small, ferplus_csv):
    _, labels = fer_small.split("Training")
    votes = ferplus.load_votes(ferplus_csv, "Training", limit=len(labels))
    voted = votes.sum(axis=1) > 0
    # The crowd's majority matches FER2013's label on ~65 % of rows; shifted rows would match ~chance.
    assert (votes.argmax(axis=1) == labels)[voted].mean() > 0.5
    targets = ferplus.blend(labels, votes, 0.3)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)
    assert (targets.argmax(axis=1) == labels).all()


def test_blend_by_hand():
    votes = np.zeros((2, 7), np.float32)
    votes[0, 5], votes[0, 2] = 3, 1  # 3 say surprise, 1 says fear
    targets = ferplus.blend(np.array([2, 4]), votes, 0.4)
    expected = np.zeros((2, 7), np.float32)
    expected[0, 2], expected[0, 5] = 0.6 + 0.4 * 0.25, 0.4 * 0.75
    expected[1, 4] = 1.0  # no votes: the label alone
    np.testing.assert_allclose(targets, expected, rtol=1e-6)


def test_a_file_without_vote_columns_is_refused(tmp_path):
    bad = tmp_path / "votes.csv"
    bad.write_text("Usage,Image name,neutral\nTraining,fer0000000.png,10\n")
    with pytest.raises(fer2013.DataError, match="missing columns"):
        ferplus.load_votes(bad)


def test_weight_average_of_the_last_epochs(fer_csv, tmp_path):
    import keras

    config = TrainConfig(
        data=fer_csv, out=tmp_path, epochs=3, limit_per_split=128, widths=(4, 4, 4, 4), dense=4, schedule="cosine"
    )
    config.average_last = 2
    metrics = train(config, progress=False)
    assert metrics["averaged"]["epochs"] == [2, 3]
    assert metrics["public_test_accuracy"] == max(
        metrics["averaged"]["public_test_accuracy"], metrics["best_epoch_public_test_accuracy"]
    )

    snapshots = [keras.models.load_model(tmp_path / f"checkpoint/epochs/epoch-{e}.keras") for e in (2, 3)]
    averaged = keras.models.load_model(tmp_path / "checkpoint/averaged.keras")
    kernel = [m.get_layer("s2_conv0").get_weights()[0] for m in snapshots]
    np.testing.assert_allclose(averaged.get_layer("s2_conv0").get_weights()[0], (kernel[0] + kernel[1]) / 2, atol=1e-6)

    # BatchNorm statistics are re-measured under the averaged weights, over the training images.
    x_train, _, _, _ = load_splits(config)
    bn = averaged.get_layer("s1_bn0")
    seen = np.asarray(keras.Model(averaged.input, bn.input)(x_train[..., None].astype(np.float32)))
    _, _, mean, variance = bn.get_weights()
    np.testing.assert_allclose(mean, seen.mean(axis=(0, 1, 2)), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(variance, seen.var(axis=(0, 1, 2)), rtol=1e-3, atol=1e-4)


def test_cosine_schedule_spans_its_phase():
    config = TrainConfig(data=None, epochs=11, learning_rate=1e-3, min_learning_rate=1e-5)
    state = TrainState(phase_start=1)
    rates = [cosine_learning_rate(config, state, epoch) for epoch in range(1, 11)]
    assert rates[0] == pytest.approx(1e-3) and rates[-1] == pytest.approx(1e-5)
    assert rates[5] == pytest.approx((1e-3 + 1e-5) / 2, rel=0.2)
    assert all(a > b for a, b in zip(rates, rates[1:]))


def test_augmentation_keeps_shape_and_changes_pixels(fer_small):
    batch = fer_small.images[:16]
    out = augment_batch(batch, np.random.default_rng(0))
    assert out.shape == batch.shape and out.dtype == np.uint8
    assert (out != batch).mean() > 0.5
    again = augment_batch(batch, np.random.default_rng(0))
    np.testing.assert_array_equal(out, again)


def test_blank_images_are_dropped():
    images = np.zeros((3, 48, 48), np.uint8)
    images[1, 10, 10] = 5
    kept, labels = drop_blank(images, np.array([0, 1, 2]))
    assert labels.tolist() == [1]


def test_bad_rows_are_reported_with_their_line(tmp_path):
    bad = tmp_path / "bad.csv"
    pixels = " ".join(["0"] * 2304)
    bad.write_text(f"emotion,pixels,Usage\n3,{pixels},Training\n9,{pixels},Training\n")
    with pytest.raises(fer2013.DataError, match=r"bad.csv:3: label 9 outside 0..6"):
        fer2013.parse_csv(bad)
    short = tmp_path / "short.csv"
    short.write_text("emotion,pixels,Usage\n3,1 2 3,Training\n")
    with pytest.raises(fer2013.DataError, match=r"short.csv:2: expected 2304 pixels"):
        fer2013.parse_csv(short)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    with pytest.raises(fer2013.DataError, match="not a FER2013 CSV"):
        fer2013.parse_csv(wrong)


def test_parsed_counts_match_the_source(fer_small):
    assert {u: int((fer_small.usage == u).sum()) for u in fer2013.USAGES} == {
        "Training": 200,
        "PublicTest": 200,
        "PrivateTest": 200,
    }
    assert fer_small.images.shape[1:] == (48, 48)


def test_a_recipe_runs_its_phases_and_resumes(fer_csv, tmp_path):
    """A recipe on a small slice of the real CSV: its phases in one run, FER+ read beside the
    CSV, the result calibrated on PublicTest; the same command again trains nothing more."""
    from training.recipe import RecipeError, read_recipe, run_recipe

    recipe = tmp_path / "tiny.toml"
    recipe.write_text(
        'model_version = "9.9"\ncalibrate = true\n'
        "[[phase]]\nepochs = 1\nwidths = [4, 8, 8, 8]\ndense = 8\n"
        '[[phase]]\nepochs = 3\nwidths = [4, 8, 8, 8]\ndense = 8\naugment = "meeting"\nschedule = "cosine"\n'
        'learning_rate = 3e-4\nferplus = "fer2013new.csv"\naverage_last = 2\n'
    )
    base = TrainConfig(data=fer_csv, out=tmp_path / "run", limit_per_split=128)
    metrics = run_recipe(recipe, base, progress=False)
    state = TrainState.load(tmp_path / "run" / "checkpoint" / "state.json")
    assert [(r["augment"], r["targets"]) for r in state.history] == [
        ("standard", "fer2013"),
        ("meeting", "fer2013+ferplus@0.3"),
        ("meeting", "fer2013+ferplus@0.3"),
    ]
    contract = read_contract(tmp_path / "run" / "emotion_cnn.keras")
    assert contract.model_version == "9.9" and contract.calibrated
    assert metrics["calibration"]["temperature"] == pytest.approx(contract.temperature)
    assert (tmp_path / "run" / "reliability_PrivateTest.png").exists()
    run_recipe(recipe, base, progress=False)
    assert len(TrainState.load(tmp_path / "run" / "checkpoint" / "state.json").history) == 3

    recipe.write_text("[[phase]]\nepochs = 2\nlerning_rate = 1e-3\n")
    with pytest.raises(RecipeError, match="unknown settings"):
        read_recipe(recipe)
    shipped = read_recipe(Path(__file__).parents[1] / "training/recipes/v2.toml")
    assert [p["epochs"] for p in shipped["phases"]] == [60, 80, 107, 149, 173]


def test_a_run_carried_between_sessions_resumes_from_its_float16_checkpoint(fer_csv, tmp_path, monkeypatch):
    """A run's folder is lost with the machine; the carried checkpoint (float16 weights and the
    state, written after every epoch) lets the same recipe go on where it stopped."""
    from training import session_checkpoint
    from training.recipe import run_recipe

    monkeypatch.chdir(tmp_path)  # the recipe names it from the repository's root, as "./..."
    carried = tmp_path / "checkpoints" / "tiny"
    recipe = tmp_path / "tiny.toml"
    phase = 'widths = [4, 8, 8, 8]\ndense = 8\nschedule = "cosine"\nsession_checkpoint = "./checkpoints/tiny"\n'
    recipe.write_text(f"[[phase]]\nepochs = 1\n{phase}")
    base = TrainConfig(data=fer_csv, out=tmp_path / "session1", limit_per_split=64)
    run_recipe(recipe, base, progress=False)
    weights = np.load(carried / session_checkpoint.WEIGHTS)
    assert {weights[k].dtype for k in weights.files} == {np.dtype(np.float16)}
    first = TrainConfig(data=fer_csv, widths=(4, 8, 8, 8), dense=8)
    model, state = session_checkpoint.restore(carried, first)
    assert state.epoch == 1 and state.best_epoch == 1
    assert state.best_accuracy == pytest.approx(state.history[0]["val_accuracy"])
    assert np.array_equal(model.get_weights()[0], weights["w000"].astype(np.float32))

    # The next session: a fresh run folder, a longer recipe, the carried checkpoint in the repository.
    recipe.write_text(f"[[phase]]\nepochs = 3\n{phase}")
    metrics = run_recipe(recipe, replace(base, out=tmp_path / "session2"), progress=False)
    assert [row["epoch"] for row in metrics["history"]] == [1, 2, 3]
    assert TrainState.load(tmp_path / "session2" / "checkpoint" / "state.json").epoch == 3
    assert json.loads((carried / session_checkpoint.STATE).read_text())["state"]["epoch"] == 3

    wider = replace(first, widths=(4, 8, 8, 16))
    with pytest.raises(session_checkpoint.SessionCheckpointError, match="wide"):
        session_checkpoint.restore(carried, wider)


def test_every_committed_recipe_reads_and_a_misspelt_augmentation_is_refused(tmp_path):
    """The recipes a model card cites read as they are, each phase naming an augmentation
    `classmood train --augment` offers too; a misspelt one is refused before any training."""
    from click import Choice

    from classmood.model_commands import train as train_command
    from training.augment import PROFILES
    from training.recipe import RecipeError, read_recipe

    offered = next(p.type for p in train_command.params if p.name == "augment")
    assert isinstance(offered, Choice) and set(offered.choices) == set(PROFILES)
    recipes = sorted((Path(__file__).parents[1] / "training/recipes").glob("*.toml"))
    assert len(recipes) >= 8
    for path in recipes:
        assert all(phase.get("augment", "standard") in PROFILES for phase in read_recipe(path)["phases"]), path
    bad = tmp_path / "bad.toml"
    bad.write_text('[[phase]]\nepochs = 2\naugment = "meeting-expret"\n')
    with pytest.raises(RecipeError, match="no augmentation 'meeting-expret'"):
        read_recipe(bad)


def test_fine_tune_starts_from_the_given_weights(fer_csv, tiny_model_file, tmp_path):
    from core.emotions import EmotionClassifier

    config = TrainConfig(
        data=fer_csv, out=tmp_path, epochs=1, limit_per_split=64, init_from=tiny_model_file, learning_rate=1e-12
    )
    train(config, progress=False)
    crops = np.random.default_rng(0).integers(0, 256, (8, 48, 48), dtype=np.uint8)
    np.testing.assert_allclose(
        EmotionClassifier(tmp_path / "emotion_cnn.keras").probabilities(crops, raw=True),
        EmotionClassifier(tiny_model_file).probabilities(crops, raw=True),
        atol=1e-4,
    )


def test_distilled_targets_match_hand_computation():
    from training.train import distilled

    labels = np.array([[1.0, 0.0, 0.0], [0.7, 0.3, 0.0]], np.float32)
    teacher = np.array([[0.6, 0.2, 0.2], [0.1, 0.8, 0.1]], np.float32)
    np.testing.assert_allclose(distilled(labels, teacher, 0.5), [[0.8, 0.1, 0.1], [0.4, 0.55, 0.05]], rtol=1e-6)
    with pytest.raises(ValueError, match="teacher gave"):
        distilled(labels, teacher[:1], 0.5)


def test_a_mirror_averaging_teacher_reads_each_face_and_its_mirror(tiny_model_file):
    """distill_flip (recipe v2.3): the teacher's target is the mean of its readings of the face
    and of the face mirrored, which differ for a face that is not symmetric."""
    from core.model import load_model
    from training.recipe import read_recipe
    from training.train import teacher_probabilities

    model, _ = load_model(tiny_model_file)
    faces = np.random.default_rng(2).integers(0, 256, (16, 48, 48), dtype=np.uint8)
    own = model.predict(faces[..., None].astype(np.float32), verbose=0)
    mirrored = model.predict(faces[:, :, ::-1, None].astype(np.float32), verbose=0)
    np.testing.assert_allclose(teacher_probabilities(tiny_model_file, faces), own, atol=1e-6)
    both = teacher_probabilities(tiny_model_file, faces, flip=True)
    np.testing.assert_allclose(both, (own + mirrored) / 2, atol=1e-6)
    assert not np.allclose(own, mirrored)
    recipe = read_recipe(Path(__file__).parents[1] / "training/recipes/v2.3.toml")
    assert recipe["phases"][0]["distill_flip"] is True


def test_a_distilled_fine_tune_reads_its_teacher_and_names_its_targets(fer_csv, tiny_model_file, tmp_path, monkeypatch):
    """The recipe form of v2.1: a fine-tune from a model file, its targets half the teacher's
    reading of the clean image; a "./" path is read from the working directory."""
    from training.recipe import phase_configs, read_recipe

    recipe = tmp_path / "distil.toml"
    recipe.write_text(
        '[[phase]]\nepochs = 1\naugment = "meeting"\n'
        f'init_from = "./{tiny_model_file.name}"\ndistill_from = "./{tiny_model_file.name}"\ndistill_weight = 0.5\n'
    )
    monkeypatch.chdir(tiny_model_file.parent)
    base = TrainConfig(data=fer_csv, out=tmp_path / "run", limit_per_split=64)
    (config,) = phase_configs(read_recipe(recipe), base)
    assert config.distill_from == Path(tiny_model_file.name) and config.init_from == Path(tiny_model_file.name)
    train(config, progress=False)
    state = TrainState.load(tmp_path / "run" / "checkpoint" / "state.json")
    assert state.history[-1]["targets"] == "fer2013+teacher@0.5"
    shipped = read_recipe(Path(__file__).parents[1] / "training/recipes/v2.1.toml")
    assert shipped["phases"][0]["distill_from"] == "./runs/v1.2/emotion_cnn.keras"


def test_a_shipped_model_rebuilt_with_batchnorm_and_wider_reads_as_before(fer_csv, tiny_model_file, tmp_path):
    """training.widen: the folded file's network with its BN back and its last stage and head
    twice as wide computes the same function (up to the copies' small symmetry-breaking noise),
    and a fine-tune from it runs and saves a model of the new width."""
    from core.model import load_model
    from training.widen import trainable_copy

    folded, _ = load_model(tiny_model_file)
    images = np.random.default_rng(1).integers(0, 256, (256, 48, 48), dtype=np.uint8)
    crops = images[:32, ..., None].astype(np.float32)
    before = folded.predict(crops, verbose=0)
    same = trainable_copy(folded, images, noise=0.0)
    np.testing.assert_allclose(same.predict(crops, verbose=0), before, atol=1e-5)
    wider = trainable_copy(folded, images, widths=(4, 8, 8, 16), dense=16)
    assert wider.get_layer("s3_conv1").filters == 16 and wider.get_layer("head_dense").units == 16
    np.testing.assert_allclose(wider.predict(crops, verbose=0), before, atol=2e-3)
    with pytest.raises(ValueError, match="can only widen"):
        trainable_copy(folded, images, widths=(4, 8, 8, 4))

    config = TrainConfig(
        data=fer_csv, out=tmp_path, epochs=1, limit_per_split=64, init_from=tiny_model_file,
        restore_batchnorm=True, widths=(4, 8, 8, 16), dense=16,
    )  # fmt: skip
    train(config, progress=False)
    shipped, _ = load_model(tmp_path / "emotion_cnn.keras")
    assert shipped.get_layer("s3_conv1").filters == 16
