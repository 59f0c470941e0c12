"""Known-file hash sets: parse the lists labs use (NSRL RDSv3 and NSRLFile.txt, hashdeep,
md5deep, md5sum/sha*sum), build compact set files in bounded memory, publish them to MinIO.

Workers read what is published through workers/known_files.py.
"""
