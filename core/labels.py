"""The seven emotions, in FER2013's label order (the order the model's outputs follow)."""

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

#: Emotions the attention rules and the valence line treat as negative.
NEGATIVE: frozenset[str] = frozenset({"angry", "disgust", "fear", "sad"})

#: A rough pleasantness score per emotion, used for the class-wide valence line.
VALENCE: dict[str, float] = {
    "angry": -0.8,
    "disgust": -0.7,
    "fear": -0.6,
    "happy": 1.0,
    "sad": -0.7,
    "surprise": 0.2,
    "neutral": 0.0,
}
