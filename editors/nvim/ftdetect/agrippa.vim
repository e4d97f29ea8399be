" Agrippa models: *.agr, and .xml files whose root element is <model>.
autocmd BufRead,BufNewFile *.agr if &filetype !=# 'agrippa' | setlocal filetype=agrippa | endif
autocmd BufRead,BufNewFile *.xml lua require('agrippa').detect_xml(0)
