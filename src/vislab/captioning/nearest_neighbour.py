"""Nearest-neighbour captioning, the baseline of Devlin et al. (2015), "Language Models for
Image Captioning: The Quirks and What Works".

For a query image: take the k training images closest by cosine similarity of their features,
pool all their captions as candidates, and return the consensus caption, the candidate with
the highest mean similarity to the other candidates. The similarity is CIDEr-D's core: the
mean over n = 1..4 of the cosine between tf-idf n-gram vectors (idf from the training
captions, grouped per image as CIDEr does) times the Gaussian length penalty with sigma 6.
Unlike scoring with pycocoevalcap caption by caption, this is a few sparse matrix products
per query, so the whole val split takes seconds.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from vislab.datasets.vocabulary import END, NULL, START
from vislab.errors import InvalidInputError

MAX_N = 4
SIGMA = 6.0


class NearestNeighbourCaptioner:
    """Has `.sample(features)` like a trained captioner, so the same evaluation runs on it.

    train_features: (M, D) image features; train_captions: (N, T+1) word ids with `<START>`;
    train_image_idxs: (N,) image row of each caption; num_neighbours: k.
    """

    model_name = "nearest-neighbour"

    def __init__(
        self,
        train_features: np.ndarray,
        train_captions: np.ndarray,
        train_image_idxs: np.ndarray,
        idx_to_word: list[str],
        num_neighbours: int = 10,
    ):
        if num_neighbours < 1:
            raise InvalidInputError(f"num_neighbours must be at least 1, got {num_neighbours}")
        if not np.isfinite(train_features).all():
            raise InvalidInputError("the training features hold NaN or infinite values")
        self.idx_to_word = list(idx_to_word)
        self.word_to_idx = {word: index for index, word in enumerate(self.idx_to_word)}
        self.num_neighbours = min(num_neighbours, len(train_features))
        self.train_keys = _unit_rows(train_features)  # (M, D)
        self.captions = np.asarray(train_captions)
        image_idxs = np.asarray(train_image_idxs)
        order = np.argsort(image_idxs, kind="stable")
        starts = np.searchsorted(image_idxs[order], np.arange(len(train_features) + 1))
        # Captions of image i: rows order[starts[i]:starts[i + 1]].
        self.caption_rows = [order[a:b] for a, b in zip(starts[:-1], starts[1:], strict=True)]
        self.vectors, self.lengths = _tfidf_vectors(self.captions, image_idxs, len(train_features))

    def neighbours(self, features: np.ndarray, chunk: int = 512) -> np.ndarray:
        """features: (N, D) -> (N, k) training image rows, most similar first."""
        queries = _unit_rows(features)
        if queries.shape[1] != self.train_keys.shape[1]:
            raise InvalidInputError(
                f"features have {queries.shape[1]} dimensions, the training features "
                f"{self.train_keys.shape[1]}"
            )
        k = self.num_neighbours
        out = np.empty((len(queries), k), dtype=np.int64)
        for start in range(0, len(queries), chunk):
            similarity = queries[start : start + chunk] @ self.train_keys.T  # (chunk, M)
            top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
            ranked = np.take_along_axis(similarity, top, axis=1).argsort(axis=1)[:, ::-1]
            out[start : start + chunk] = np.take_along_axis(top, ranked, axis=1)
        return out

    def consensus_rows(self, features: np.ndarray) -> np.ndarray:
        """features: (N, D) -> (N,) row in train_captions of each query's consensus caption."""
        chosen = []
        for images in self.neighbours(features):
            rows = np.concatenate([self.caption_rows[i] for i in images])
            if len(rows) == 1:
                chosen.append(rows[0])
                continue
            vectors = self.vectors[rows]  # (m, G) sparse
            similarity = (vectors @ vectors.T).toarray()  # (m, m) mean n-gram cosine
            gap = self.lengths[rows][:, None] - self.lengths[rows][None, :]
            similarity *= np.exp(-(gap**2) / (2 * SIGMA**2))
            np.fill_diagonal(similarity, 0.0)
            chosen.append(rows[int(similarity.sum(axis=1).argmax())])  # ties: nearest image
        return np.asarray(chosen, dtype=np.int64)

    def sample(self, features: np.ndarray, max_length: int = 30, beam_size: int = 1) -> np.ndarray:
        """features: (N, D) -> (N, max_length) ids: the consensus caption's words, `<END>`,
        then `<NULL>`. beam_size is accepted for the captioner interface and ignored."""
        if not np.isfinite(features).all():
            raise InvalidInputError("the features to caption hold NaN or infinite values")
        out = np.full((len(features), max_length), NULL, dtype=np.int64)
        for n, row in enumerate(self.consensus_rows(features)):
            words = [w for w in self.captions[row] if w not in (NULL, START)]
            words = words[: words.index(END)] if END in words else words
            ids = [*words[: max_length - 1], END]
            out[n, : len(ids)] = ids
        return out


def _unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _words(caption: np.ndarray) -> tuple[int, ...]:
    words = []
    for index in caption.tolist():
        if index == END:
            break
        if index not in (NULL, START):
            words.append(index)
    return tuple(words)


def _tfidf_vectors(
    captions: np.ndarray, image_idxs: np.ndarray, num_images: int
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Per caption: tf-idf n-gram vectors, each order n unit-normalised and scaled by 1/4,
    so a dot product is the mean n-gram cosine -> ((N, G) CSR, (N,) length in words)."""
    grams: dict[tuple[int, ...], int] = {}
    per_caption, images_with = [], {}
    for image, caption in zip(image_idxs.tolist(), captions, strict=True):
        words = _words(caption)
        counts: dict[int, int] = {}
        for n in range(1, MAX_N + 1):
            for i in range(len(words) - n + 1):
                column = grams.setdefault(words[i : i + n], len(grams))
                counts[column] = counts.get(column, 0) + 1
                images_with.setdefault(column, set()).add(image)
        per_caption.append((len(words), counts))
    order = np.array([len(g) for g in grams], dtype=np.int64)  # (G,) n of each gram
    document_frequency = np.array([len(images_with[c]) for c in range(len(grams))], np.float64)
    idf = np.log(max(num_images, 1)) - np.log(np.maximum(document_frequency, 1.0))
    rows, columns, values = [], [], []
    for row, (_, counts) in enumerate(per_caption):
        rows += [row] * len(counts)
        columns += list(counts)
        values += list(counts.values())
    rows, columns = np.asarray(rows, dtype=np.int64), np.asarray(columns, dtype=np.int64)
    weights = np.asarray(values, dtype=np.float64) * idf[columns]
    # Unit-normalise each caption's order-n block, then scale by 1/4.
    squares = np.zeros((len(per_caption), MAX_N + 1))
    np.add.at(squares, (rows, order[columns]), weights**2)
    norms = np.sqrt(squares[rows, order[columns]])
    weights = np.where(norms > 0, weights / (MAX_N * np.maximum(norms, 1e-300)), 0.0)
    shape = (len(per_caption), len(grams))
    matrix = sparse.csr_matrix((weights, (rows, columns)), shape=shape)
    lengths = np.array([length for length, _ in per_caption], dtype=np.float64)
    return matrix, lengths
