"""The declarations a journal asks for that the project can state itself: data availability and
statistical disclosure control. The others (ethics, funding, contributions…) are the authors' to write."""
from __future__ import annotations

from ..disclose.policy import Policy


def data_availability(is_synthetic: bool) -> str:
    """Where the data are, and what can be shared: the real data stay in the secure environment."""
    text = ("The study data are held in the research team's secure environment and cannot be shared, because "
            "they are sensitive records of identifiable families; requests to the parent study's team are "
            "considered under its data-sharing agreements *[authors to confirm the contact and conditions]*. "
            "The analysis code, the codebook, the analysis plan and a synthetic cohort with the same structure "
            "are openly available *[authors to add the repository address]*.")
    if is_synthetic:
        text += (" This rendering used the synthetic cohort, so every number in it is synthetic and "
                 "illustrates the analysis only.")
    return text


def disclosure_statement(policy: Policy) -> str:
    """The disclosure-control rules every output of this run passed, in one or two sentences."""
    if not policy.checked:
        return policy.rule_text()
    return ("Only outputs that passed the disclosure control described in the Methods left the secure "
            "environment; the number of values each rule changed in every output is in the supplementary material.")
