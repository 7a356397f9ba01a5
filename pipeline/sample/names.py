"""Made-up names for synthetic pupils: common given names and surnames drawn at random, never real records.

Every name is encodable in Windows-1252, because older SIMS reports are written in it.
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# heritage: (girls' names, boys' names, surnames)
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "british": (
        _words(
            "Olivia Amelia Isla Ava Ivy Freya Lily Florence Mia Willow Rosie Sophia Isabella Grace Daisy "
            "Sienna Poppy Elsie Emily Ella Evie Chloé Zoë Ruby Harriet Niamh Aoife Siân Megan Jessica Holly"
        ),
        _words(
            "Noah Oliver George Arthur Muhammad Leo Harry Oscar Archie Henry Theodore Freddie Jack Charlie "
            "Theo Alfie Jacob Thomas Finley Isaac Seán Callum Rhys Dylan Kieran Liam Joshua Ethan Reece Tyler"
        ),
        _words(
            "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker "
            "White Roberts Green Hall Wood Jackson Clarke Hughes Edwards Turner Hill Moore Cooper "
            "Ward Morris King O'Brien O'Connor Murphy Kelly Harris-Cole Bennett Shaw Lloyd Price"
        ),
    ),
    "eastern_european": (
        _words("Zuzanna Julia Zofia Maja Oliwia Amelia Alicja Natalia Ioana Andreea"),
        _words("Jakub Antoni Szymon Filip Jan Kacper Mateusz Andrei Luca Matei"),
        _words(
            "Nowak Kowalski Lewandowski Kaminski Zielinski Popescu Ionescu Dumitru Stan Horvath Novák Kovács "
            "Petrov Ivanova"
        ),
    ),
    "south_asian": (
        _words("Aisha Maryam Fatima Zara Inaya Anaya Priya Aaradhya Simran Hafsa"),
        _words("Muhammad Ibrahim Yusuf Ayaan Arjun Rayan Zayn Aarav Harjeet Omar"),
        _words("Khan Ahmed Hussain Ali Begum Patel Shah Singh Kaur Rahman Chowdhury Iqbal Mahmood Sharma Islam"),
    ),
    "african": (
        _words("Amara Chioma Favour Precious Blessing Nia Zainab Hodan Ama Adaeze"),
        _words("David Daniel Emmanuel Samuel Tobi Kwame Chidi Abdi Kofi Femi"),
        _words("Okafor Adeyemi Mensah Osei Mohamed Abdi Okoye Balogun Asante Nwosu Hassan Boateng"),
    ),
    "chinese": (
        _words("Mei Xinyi Yuxuan Jia Lin Hannah Grace"),
        _words("Wei Hao Jun Ethan Ryan Zhi Kai"),
        _words("Wang Li Zhang Chen Liu Wong Cheung Lam"),
    ),
    "other": (
        _words("Sofía María Lucía Inês Beatriz Maëlle Léa Layla Noor Yasmin"),
        _words("José Mateo Santiago João Tomás André Hugo Karim Ahmad Elias"),
        _words("García Fernández Rodríguez Silva Santos Pereira Dubois Lefèvre Haddad Nasser Yilmaz Demir"),
    ),
}

# DfE ethnicity codes with rough national shares of school pupils, the heritage their names are drawn from,
# and how likely a pupil of that group is to have English as an additional language.
ETHNICITIES: tuple[tuple[str, float, str, float], ...] = (
    ("WBRI", 0.600, "british", 0.005),
    ("WIRI", 0.004, "british", 0.02),
    ("WIRT", 0.002, "british", 0.02),
    ("WROM", 0.004, "eastern_european", 0.6),
    ("WOTH", 0.075, "eastern_european", 0.75),
    ("MWBC", 0.018, "british", 0.02),
    ("MWBA", 0.010, "african", 0.05),
    ("MWAS", 0.017, "south_asian", 0.05),
    ("MOTH", 0.025, "other", 0.15),
    ("AIND", 0.040, "south_asian", 0.55),
    ("APKN", 0.050, "south_asian", 0.75),
    ("ABAN", 0.020, "south_asian", 0.80),
    ("AOTH", 0.020, "south_asian", 0.7),
    ("BAFR", 0.040, "african", 0.45),
    ("BCRB", 0.011, "british", 0.02),
    ("BOTH", 0.007, "african", 0.3),
    ("CHNE", 0.007, "chinese", 0.6),
    ("OOTH", 0.025, "other", 0.7),
    ("REFU", 0.025, "british", 0.2),
)
