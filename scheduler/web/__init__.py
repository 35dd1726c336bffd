"""HTTP: the staff API (``api/``), the staff console (``console/``) and the public pages
(``public/``), side by side over their shared plumbing (``deps``, ``errors``); ``app`` puts
them together. The API and the console never import each other."""
