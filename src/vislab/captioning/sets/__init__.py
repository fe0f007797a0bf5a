"""Caption-set builders: pipelines that run a backbone over images and write the course's layout.

`scenes` (Fashion-MNIST scenes with template captions) and `own_captions` (your photos and a
COCO-style JSON) both end in `caption_sets.write_caption_set`.
"""
