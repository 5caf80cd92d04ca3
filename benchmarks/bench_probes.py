"""Time episode 09's probe sweep on the offline model: 2,000 generated sentences, every layer.

Embeds the 1,600 training and 400 test sentences of synthetic_sentiment with all-MiniLM-L6-v2
at all 7 hidden states in one pass each (trustml.explain.sentence_embeddings), trains a linear
probe per layer with the shuffled-label control (probe_layers), then does the same for a
randomly initialised copy. Prints the wall time of each step, the per-layer accuracies and
selectivity, and the load average (times on a shared machine are inflated by the load).

    OMP_NUM_THREADS=1 python benchmarks/bench_probes.py
"""

import os
import time

import torch

from trustml.data import make_sentiment_sentences
from trustml.explain import load_encoder, probe_layers, randomly_initialised, sentence_embeddings


def main():
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    data = make_sentiment_sentences(2000, seed=0)
    start = time.perf_counter()
    encoder = load_encoder("embedded")
    loaded = time.perf_counter()
    embed = lambda model, texts: sentence_embeddings(model, encoder.tokenizer, texts, layer="all", device="cpu")
    train, test = embed(encoder.model, data.texts_train), embed(encoder.model, data.texts_test)
    embedded = time.perf_counter()
    table = probe_layers(train, data.y_train, test, data.y_test)
    probed = time.perf_counter()
    untrained = randomly_initialised(encoder.model, seed=0)
    r_train, r_test = embed(untrained, data.texts_train), embed(untrained, data.texts_test)
    random_table = probe_layers(r_train, data.y_train, r_test, data.y_test, control=None)
    done = time.perf_counter()
    table["random-model accuracy"] = random_table["accuracy"]
    print(table.round(3).to_string())
    print(f"load the encoder {loaded - start:.1f} s; embed 2,000 sentences at 7 layers {embedded - loaded:.1f} s; "
          f"probe 7 layers + control {probed - embedded:.1f} s; sweep total {probed - loaded:.1f} s; "
          f"random-model control {done - probed:.1f} s")
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()), f"on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
