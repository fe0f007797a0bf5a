"""Caption decoding for the Transformer captioner: greedy (cached or re-running the prefix) and
beam search over the cached decoder.

The model must offer `forward(features, captions)`, `start_decoding(features, max_steps)` and
`decode_step(words, state)` (see `CaptioningTransformer`), and `_start`, `_end`, `_null` ids.
Shapes: N images, B beams, L = max_length, V vocabulary.
"""

from __future__ import annotations

import torch

from vislab.captioning.numpy_beam_search import repeated_trigram_words


def greedy_decode(model, features: torch.Tensor, max_length: int, use_cache: bool = True):
    """Most likely next word at every step.

    features: (N, D). Returns int64 (N, max_length): first generated word first, `<NULL>`
    after `<END>`. `use_cache=False` re-runs the whole prefix each step (the course's way).
    """
    N = features.shape[0]
    words = torch.full((N,), model._start, dtype=torch.long, device=features.device)
    captions = torch.full((N, max_length), model._null, dtype=torch.long, device=features.device)
    finished = torch.zeros(N, dtype=torch.bool, device=features.device)
    state = model.start_decoding(features, max_length) if use_cache else None
    prefix = words.unsqueeze(1)  # (N, 1)
    for t in range(max_length):
        if use_cache:
            scores = model.decode_step(words, state)  # (N, V)
        else:
            scores = model(features, prefix)[:, -1]  # (N, V)
        words = scores.argmax(dim=1)
        captions[:, t] = words.masked_fill(finished, model._null)
        finished |= words == model._end
        if bool(finished.all()):
            break
        prefix = torch.cat([prefix, words.unsqueeze(1)], dim=1)  # (N, t + 2)
    return captions


def beam_search(
    model,
    features: torch.Tensor,
    max_length: int,
    beam_size: int,
    length_penalty: float = 1.0,
    block_trigrams: bool = False,
):
    """Keep the `beam_size` best partial captions, ranked by total log-probability / length **
    length_penalty (1, the default: mean log-probability per word; `<END>` counts as a word).

    The numpy captioner's beam search, in torch: a finished beam stays, extended by `<NULL>`
    at no cost; `block_trigrams` never picks a word that repeats a trigram of its beam.
    features: (N, D) or (N, L, D). Returns the best caption per image, int64 (N, max_length),
    `<NULL>` after `<END>`.
    """
    if length_penalty < 0:
        raise ValueError(f"length_penalty must be at least 0, got {length_penalty}")
    N, B, device = features.shape[0], beam_size, features.device
    # (N*B, ...): B copies of each image, the beams of one image in adjacent rows
    state = model.start_decoding(features.repeat_interleave(B, dim=0), max_length)
    words = torch.full((N * B,), model._start, dtype=torch.long, device=device)
    captions = torch.full((N, B, max_length), model._null, dtype=torch.long, device=device)
    # Only the first beam is alive at the start, so the first step does not pick B copies.
    totals = torch.full((N, B), float("-inf"), dtype=torch.float64, device=device)
    totals[:, 0] = 0.0
    lengths = torch.zeros(N, B, dtype=torch.float64, device=device)
    finished = torch.zeros(N, B, dtype=torch.bool, device=device)
    rows = torch.arange(N, device=device).unsqueeze(1) * B  # (N, 1) first row of each image
    for t in range(max_length):
        scores = model.decode_step(words, state).double()
        log_probs = torch.log_softmax(scores, dim=1).view(N, B, -1)  # (N, B, V)
        V = log_probs.shape[2]
        if block_trigrams:
            history = captions.view(N * B, -1).cpu().numpy()  # (N*B, max_length)
            banned_rows, banned_words = (
                torch.as_tensor(a, device=device) for a in repeated_trigram_words(history, t)
            )
            # (N*B, V), a view: the bans land in log_probs
            log_probs.view(N * B, V)[banned_rows, banned_words] = float("-inf")
        # A finished beam extends only with <NULL>, keeping its total.
        done = torch.full((V,), float("-inf"), dtype=torch.float64, device=device)
        done[model._null] = 0.0
        # (N, B, 1) + (N, B, V) -> (N, B, V): every beam extended by every word
        candidates = totals.unsqueeze(2) + torch.where(finished.unsqueeze(2), done, log_probs)
        candidate_lengths = lengths + (~finished).double()  # (N, B)
        penalty = candidate_lengths.clamp(min=1) ** length_penalty
        ranked = (candidates / penalty.unsqueeze(2)).view(N, B * V)  # an image's B*V candidates
        best = ranked.topk(B, dim=1).indices  # (N, B), best first
        parents, words_nb = best // V, best % V
        totals = candidates.view(N, B * V).gather(1, best)  # (N, B)
        lengths = candidate_lengths.gather(1, parents)
        finished = finished.gather(1, parents) | (words_nb == model._end)
        # (N, B, max_length): each new beam starts from its parent's words
        captions = captions.gather(1, parents.unsqueeze(2).expand(-1, -1, max_length)).clone()
        captions[:, :, t] = words_nb
        if bool(finished.all()) or t == max_length - 1:
            break
        state.reorder((rows + parents).view(-1))  # (N*B,) cache rows of the parents
        words = words_nb.view(-1)  # (N, B) -> (N*B,)
    final = torch.where(
        totals.isfinite(), totals / lengths.clamp(min=1) ** length_penalty, float("-inf")
    )
    return captions[torch.arange(N, device=device), final.argmax(dim=1)]
