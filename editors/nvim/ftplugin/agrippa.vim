" Agrippa is XML: reuse the XML filetype plugin (matchit pairs, formatting), then add ours.
if exists('b:did_ftplugin')
  finish
endif
runtime! ftplugin/xml.vim
let b:did_ftplugin = 1
setlocal commentstring=<!--%s-->
setlocal comments=s:<!--,m:\ \ \ \ ,e:-->
let b:undo_ftplugin = get(b:, 'undo_ftplugin', '') . (exists('b:undo_ftplugin') ? ' | ' : '') . 'setlocal commentstring< comments<'
