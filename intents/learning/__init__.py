"""Learned intent recognition: features, training with a confidence threshold chosen on
training data only, evaluation, and the signed artifact a trained model is stored as.
Pure Python and scikit-learn; nothing here touches the database."""

OUT_OF_SCOPE = "oos"  # the label of a text that expresses none of the known intents
