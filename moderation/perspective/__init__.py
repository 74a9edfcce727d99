"""A drop-in for Google's Perspective API (``/v1alpha1/comments:analyze`` and
``:suggestscore``), so a site that called Perspective changes one URL and nothing else.

``attributes`` maps Perspective's attribute names onto our scores, ``schemas`` reads its
request shapes, ``errors`` writes its error shape, ``language`` reports the comment's language;
the service that joins them is ``moderation.services.analyze``.
"""
