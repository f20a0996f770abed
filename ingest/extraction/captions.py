"""Photo captions of an article page: figures, caption elements, image boxes and galleries.

A caption can be on a page several times (a figure's ``figcaption``, the same text in a gallery
slide and its full-screen overlay, a ``span.caption`` inside the ``figcaption``); each text is
kept once, at its first place. Image ``alt`` text is a description for screen readers, not a
caption, and is not read. Photo credits (credit elements, or credit patterns at the end of the
text) are split from the caption into data.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from lxml import etree

from config import SiteRules
from dedupe import normalize
from ingest.extraction.credits import PhotoCredits
from ingest.extraction.dom import Element, Markers, remove, select, tag_of, text_of

MAX_CAPTION_WORDS = 90


@dataclass
class FoundCaption:
    element: Element
    text: str
    credit: str | None
    position: int
    origin: str


def _inside_link(element: Element, stop: Element) -> bool:
    for ancestor in element.iterancestors():
        if ancestor is stop:
            return False
        if tag_of(ancestor) == "a":
            return True
    return False


def _has_image(element: Element) -> bool:
    return any(True for _ in element.iter("img", "picture", "amp-img"))


class CaptionFinder:
    def __init__(self, markers: Markers, credits: PhotoCredits) -> None:
        self.markers = markers
        self.credits = credits

    def parts(self, element: Element, site: SiteRules | None) -> tuple[str, str | None]:
        """The caption text and photo credit of one caption element."""
        work = copy.deepcopy(element)
        work.tail = None
        credit_parts: list[str] = []
        credit_elements = [
            e for e in work.iter()
            if e is not work and (tag_of(e) == "cite" or Markers.matches(self.markers.photo_credit, e))
        ]  # fmt: skip
        if site is not None and site.photo_credits:
            credit_elements.extend(e for e in select(work, site.photo_credits) if e is not work)
        for credit_element in credit_elements:
            if credit_element.getparent() is None and credit_element is not work:
                continue  # already removed with an ancestor
            text = text_of(credit_element)
            if text:
                credit_parts.append(text)
            remove(credit_element)
        # Screen-reader-only and hidden duplicates ("Caption", "Expand") are not caption text.
        for hidden in [e for e in work.iter() if e is not work and e.get("aria-hidden") == "true"]:
            remove(hidden)
        text = text_of(work)
        text, text_credit = self.credits.split(text)
        if text_credit and not credit_parts:
            credit_parts.append(text_credit)
        credit = " ".join(dict.fromkeys(c.strip(" ()") for c in credit_parts if c.strip(" ()"))) or None
        return text, credit

    def find(
        self, root: Element, region: Element, site: SiteRules | None, order: dict[etree._Element, int]
    ) -> tuple[list[FoundCaption], set[Element]]:
        """The captions, each once, and every element read as a caption (repeats included), which
        the body reader must not read again."""
        candidates: list[tuple[Element, str]] = []
        for figcaption in region.iter("figcaption"):
            candidates.append((figcaption, "figcaption"))
        for element in region.iter():
            if not isinstance(element.tag, str) or tag_of(element) == "figcaption":
                continue
            if Markers.matches(self.markers.caption, element):
                candidates.append((element, "caption"))
            elif Markers.matches(self.markers.image_box, element) and _has_image(element):
                candidates.append((element, "image_box"))
        if site is not None and site.captions:
            candidates.extend((e, "site") for e in select(region, site.captions))
        # A caption element inside another one is part of it (Pangea's span.caption inside the
        # figcaption); an image box defers to the caption elements inside it.
        chosen: dict[Element, str] = {}
        for element, origin in candidates:
            if element in chosen:
                continue
            chosen[element] = origin
        found: list[FoundCaption] = []
        claimed: set[Element] = set()
        for element, origin in chosen.items():
            outer = [chosen[a] for a in element.iterancestors() if a in chosen]
            if origin != "image_box" and any(o != "image_box" for o in outer):
                continue  # read as part of the enclosing caption element
            if origin == "image_box" and any(d in chosen for d in element.iterdescendants()):
                continue  # its caption elements are read on their own
            if _inside_link(element, region):
                continue  # a teaser card: the text is a link to another article
            text, credit = self.parts(element, site)
            if origin == "image_box":
                # An image box's text is a caption only when it is short and mostly not links.
                links = sum(len(text_of(a)) for a in element.iter("a"))
                if not text or links > len(text) / 2:
                    continue
            if not text or len(text.split()) > MAX_CAPTION_WORDS:
                continue
            claimed.add(element)
            found.append(FoundCaption(element, text, credit, order.get(element, 0), origin))
        found.sort(key=lambda c: c.position)
        return _once(found), claimed


def _once(captions: list[FoundCaption]) -> list[FoundCaption]:
    """Each caption text once: equal texts, or one within a nearly equal other, are the same caption."""
    kept: list[FoundCaption] = []
    keys: list[str] = []
    for caption in captions:
        key = normalize(caption.text)
        if not key:
            continue
        duplicate = None
        for index, other in enumerate(keys):
            # Containment counts only when the texts are nearly the same length: a caption
            # that merely quotes another ("A supporter listens as <other caption>") is its own.
            shorter, longer = sorted((len(key), len(other)))
            if key == other or (shorter >= 20 and shorter >= 0.9 * longer and (key in other or other in key)):
                duplicate = index
                break
        if duplicate is None:
            kept.append(caption)
            keys.append(key)
        elif len(key) > len(keys[duplicate]) and caption.credit is None and kept[duplicate].credit is None:
            # The longer text of the same caption is the fuller one; keep its first place.
            kept[duplicate] = FoundCaption(
                kept[duplicate].element, caption.text, caption.credit, kept[duplicate].position, kept[duplicate].origin
            )
            keys[duplicate] = key
        elif kept[duplicate].credit is None and caption.credit is not None:
            kept[duplicate].credit = caption.credit
    return kept
