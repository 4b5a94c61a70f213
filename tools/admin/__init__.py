"""Operations: the admin CLI (`python -m tools.admin create-show`) and deployment to AWS."""
