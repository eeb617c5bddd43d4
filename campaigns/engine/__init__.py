"""The journey engine: the graph of steps, entering, advancing, the tick, delivery."""
